/// One method of the wire contract: its service, its name and its request and reply types.
/// Generated from the `service` declarations in proto/ (e.g. `IntakeV1.Intake.Method.submitReferral`);
/// servers register handlers and clients call through these, so no method name is written by hand.
public struct MethodDescriptor<Input: WireMessage, Output: WireMessage>: Sendable, Hashable {
    /// `hsb.intake.v1.Intake`.
    public let service: String
    /// `SubmitReferral`.
    public let method: String
    /// `hsb.intake.v1.Intake/SubmitReferral`: the name the envelope carries.
    public let fullName: String

    public init(service: String, method: String) {
        self.service = service
        self.method = method
        self.fullName = "\(service)/\(method)"
    }
}

/// A method descriptor with its types as values, for tables of methods of different types (the
/// fuzzer's targets, the orchestrator's relayable acts).
public struct AnyMethodDescriptor: Sendable {
    public let fullName: String
    public let request: any WireMessage.Type
    public let reply: any WireMessage.Type

    public init<Input, Output>(_ method: MethodDescriptor<Input, Output>) {
        fullName = method.fullName
        request = Input.self
        reply = Output.self
    }
}

extension MethodDescriptor {
    public var erased: AnyMethodDescriptor { AnyMethodDescriptor(self) }
}
