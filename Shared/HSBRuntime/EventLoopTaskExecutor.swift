import NIOCore

/// Runs a task's jobs on one event loop, so that a request's handler starts and resumes on the
/// loop that owns its connection: no hop to the cooperative pool and back for each request.
///
/// Handlers must not block: blocking work (storage) belongs on a thread pool, awaited from here.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unownedJob = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute {
            unownedJob.runSynchronously(on: executor)
        }
    }
}
