import HSBRuntime
import HSBWire
import Testing

@Suite("The in-process transport: handlers called with no sockets, exactly as over the wire")
struct InProcessTests {
    func dispatcher() -> Dispatcher {
        Dispatcher(
            registry: MethodRegistry([echo]), authenticator: Authenticator(secrets: TestSecrets.all), metrics: ServerMetrics(prefix: "hsb_test"),
            logger: quietLogger)
    }

    @Test func aSignedCallIsAnsweredAndEveryRefusalIsTheWiresOwn() async throws {
        let dispatcher = dispatcher()
        let client = InProcessClient(dispatcher: dispatcher, signer: RequestSigner(agency: .orchestrator, secret: TestSecrets.orchestrator))
        #expect(try await client.call("test.v1.Echo/Echo", payload: [1, 2]) == [1, 2])
        await #expect(throws: RPCError(.unauthenticated, "request test.v1.Echo/Echo carries no credential; sign it with your agency's secret")) {
            try await InProcessClient(dispatcher: dispatcher, signer: nil).call("test.v1.Echo/Echo", payload: [1])
        }
        await #expect(throws: RPCError(.permissionDenied, "agency education may not call test.v1.Echo/Echo")) {
            try await InProcessClient(dispatcher: dispatcher, signer: RequestSigner(agency: .education, secret: TestSecrets.education))
                .call("test.v1.Echo/Echo", payload: [1])
        }
        await #expect(throws: RPCError(.unimplemented, "method test.v1.None/None is not served here")) {
            try await client.call("test.v1.None/None", payload: [])
        }
    }

    @Test func aHandlerAsksForItsCallerAndAnUnprovenOneIsUnauthenticatedNotATrap() async throws {
        // Open to anyone, yet asking who called: proven callers are named, an unsigned call is refused.
        let whoami = MethodHandler(method: "test.v1.Who/AmI", policy: .anyone) { context, _ in
            Array(try context.requireCaller().agency.name.utf8)
        }
        let dispatcher = Dispatcher(
            registry: MethodRegistry([whoami]), authenticator: Authenticator(secrets: TestSecrets.all), metrics: ServerMetrics(prefix: "hsb_test"),
            logger: quietLogger)
        let signed = InProcessClient(dispatcher: dispatcher, signer: RequestSigner(agency: .orchestrator, secret: TestSecrets.orchestrator))
        #expect(String(decoding: try await signed.call("test.v1.Who/AmI", payload: []), as: UTF8.self) == "orchestrator")
        await #expect(throws: RPCError(.unauthenticated, "test.v1.Who/AmI needs a signed credential")) {
            try await InProcessClient(dispatcher: dispatcher, signer: nil).call("test.v1.Who/AmI", payload: [])
        }
    }
}
