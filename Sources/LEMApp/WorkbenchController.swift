import Foundation
import LEMCore
import LEMEngine
import Panels

/// The application behind the workbench: one service per panel, and the routing of every
/// intent to the one service that handles it.
///
/// `start`, `handle` and `stop` are called on the UI thread and return at once; services work on
/// their own queues and report through the inbox. Theme changes (`AppIntent`) belong to the
/// terminal driver, which handles them before they reach here.
public final class WorkbenchController: @unchecked Sendable {
    /// What the workbench runs on.
    public enum Mode: Sendable {
        /// The engine, trainer and store, starting with `model` (nil: no model for runs).
        case live(model: ModelKey, compare: ModelKey?)
        /// Canned data in every panel.
        case demo
    }

    public let chat: ChatService?
    public let train: TrainService?
    public let bench: BenchService?
    public let attention: AttentionService?
    public let demo: DemoService?
    /// Follows a `train-log.jsonl` in the Train panel (beside a live or demo workbench).
    public let follower: TrainLogFollower?

    /// The services for `mode`, posting to `inbox`; `trainLog` is followed when given.
    public init(
        context: AppContext, inbox: any WorkbenchInbox, mode: Mode, trainLog: URL? = nil,
        adapterRoots: [URL]? = nil
    ) {
        follower = trainLog.map { TrainLogFollower(url: $0, inbox: inbox) }
        switch mode {
        case .live(let model, let compare):
            let catalog = context.modelCatalog(adapterRoots: adapterRoots)
            let sessions = ChatSessions(databaseURL: context.database, inbox: inbox)
            chat = ChatService(context: context, inbox: inbox, model: model, catalog: catalog, sessions: sessions)
            train = TrainService(context: context, inbox: inbox)
            bench = BenchService(context: context, inbox: inbox, model: model)
            attention = AttentionService(context: context, inbox: inbox, model: model, compare: compare)
            demo = nil
        case .demo:
            chat = nil
            train = nil
            bench = nil
            attention = nil
            demo = DemoService(inbox: inbox, includeTraining: trainLog == nil)
        }
    }

    /// Whether the data shown is made up.
    public var isDemo: Bool { demo != nil }

    /// Starts every service.
    public func start() {
        follower?.start()
        chat?.start()
        train?.start()
        bench?.start()
        attention?.start()
        demo?.start()
    }

    /// Sends an intent to the service that handles it.
    public func handle(_ intent: WorkbenchIntent) {
        if let demo {
            demo.handle(intent)
            return
        }
        switch intent {
        case .chat(let i): chat?.handle(i)
        case .train(let i): train?.handle(i)
        case .bench(let i): bench?.handle(i)
        case .attention(let i): attention?.handle(i)
        case .app: break
        }
    }

    /// Stops background work before the program exits.
    public func stop() {
        follower?.stop()
        chat?.stop()
        train?.stop()
        bench?.stop()
        attention?.stop()
        demo?.stop()
    }
}
