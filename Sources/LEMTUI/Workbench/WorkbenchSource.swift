import Panels

/// Where the workbench's data comes from and where its intents go.
///
/// A source runs its work on its own Dispatch queues and reports back only through
/// `inbox.post { workbench in ... }`; `start` and `perform` are called on the UI thread and
/// must return at once. The real engine/trainer/store sources are wired by the lead;
/// `DemoSource` stands in until then and marks itself with `isDemo`.
protocol WorkbenchSource: AnyObject {
    /// A short name for the footer ("demo chat", "train log").
    var name: String { get }
    /// Whether the data shown is made up.
    var isDemo: Bool { get }
    /// Starts background work; initial view models may be posted right away.
    func start(inbox: EventInbox)
    /// Reacts to an intent from a panel.
    func perform(_ intent: WorkbenchIntent, inbox: EventInbox)
    /// Stops background work before the program exits.
    func stop()
}
