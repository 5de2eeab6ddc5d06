import CNCurses
import Foundation
import LEMApp
import Panels

/// The workbench's single event loop.
///
/// It sleeps in poll(2) on stdin and the inbox's wake-up pipe (with a timeout only while
/// something animates), then applies queued updates from background work, handles input,
/// advances animations, and redraws only when something changed.
final class WorkbenchRunner {
    var workbench: Workbench
    var config: WorkbenchConfig
    let controller: WorkbenchController
    let inbox: EventInbox
    let environment: [String: String]
    /// Frames per second of the animation timer.
    let animationInterval: Int32 = 100

    /// A loop over the services `makeController` builds on the loop's inbox.
    init(
        config: WorkbenchConfig, environment: [String: String],
        makeController: (EventInbox) -> WorkbenchController
    ) throws {
        self.config = config
        self.environment = environment
        inbox = try EventInbox()
        controller = makeController(inbox)
        workbench = Workbench(keys: config.keys)
        workbench.setThemeNames(config.themeNames)
        if !config.problems.isEmpty {
            workbench.showMessage(title: "Configuration problems", text: config.problems.joined(separator: "\n"))
        }
    }

    /// Runs until the user quits; the terminal is restored on return and on fatal signals.
    func run() throws {
        let screen = try TerminalScreen(theme: config.theme, environment: environment)
        workbench.setColorDepth(screen.depth)
        defer {
            controller.stop()
            screen.shutdown()
        }
        controller.start()
        var frame = ScreenBuffer(width: 0, height: 0)
        var dirty = true
        var fds = [
            pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
            pollfd(fd: inbox.wakeFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: screen.resizeFD, events: Int16(POLLIN), revents: 0)
        ]
        var lastTick = DispatchTime.now()
        loop: while true {
            for u in inbox.drain() {
                u(&workbench)
                dirty = true
            }
            if dirty {
                let (w, h) = screen.size
                if frame.width != w || frame.height != h { frame = ScreenBuffer(width: w, height: h) }
                workbench.render(into: &frame)
                if controller.isDemo, w > 30 {
                    let tag = " demo data "
                    frame.put(
                        tag, x: w - DisplayWidth.width(of: tag) - 1, y: h - 1,
                        style: Style(fg: .role(.warning), bg: .role(.footerBackground), attributes: .bold))
                }
                screen.draw(frame)
                dirty = false
            }
            let timeout: Int32 = workbench.isAnimating ? animationInterval : -1
            for i in fds.indices { fds[i].revents = 0 }
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR { throw WorkbenchError("poll failed: errno \(errno)") }
            // A window-size change wakes the loop through its pipe (the signal may have gone to
            // another thread); curses then reports KEY_RESIZE on the next read.
            if fds[2].revents != 0 {
                screen.drainResizes()
                dirty = true
            }
            for input in screen.readEvents() {
                switch input {
                case .resize:
                    dirty = true
                case .input(let event):
                    let bounds = Rect(x: 0, y: 0, width: frame.width, height: frame.height)
                    var intents: [WorkbenchIntent] = []
                    let result = workbench.handle(event, screen: bounds) { intents.append($0) }
                    for intent in intents { dispatch(intent, screen: screen) }
                    switch result {
                    case .quit: break loop
                    case .redraw: dirty = true
                    case .handled, .ignored: break
                    }
                    if !intents.isEmpty { dirty = true }
                }
            }
            if workbench.isAnimating {
                let now = DispatchTime.now()
                if now.uptimeNanoseconds - lastTick.uptimeNanoseconds >= UInt64(animationInterval) * 1_000_000 {
                    lastTick = now
                    if workbench.tick() { dirty = true }
                }
            }
        }
    }

    /// Handles the application's own intents here and passes the rest to the services.
    func dispatch(_ intent: WorkbenchIntent, screen: TerminalScreen) {
        switch intent {
        case .app(.setTheme(let name)):
            config.selectTheme(name.isEmpty ? config.nextThemeName() : name)
            screen.setTheme(config.theme)
            // Say which theme is on, and keep it for the next start.
            let chosen = config.theme.name
            let place = "\(config.themeNames.firstIndex(of: chosen).map { $0 + 1 } ?? 0)/\(config.themeNames.count)"
            do {
                let file = try WorkbenchConfig.rememberTheme(chosen, in: config.directory).path
                let home = environment["HOME"].map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? ""
                let shown = !home.isEmpty && file.hasPrefix(home + "/") ? "~" + file.dropFirst(home.count) : file
                workbench.showNotice("theme \(chosen) (\(place)) · remembered in \(shown)")
            } catch {
                workbench.showNotice("theme \(chosen) (\(place)) · cannot remember it: \(error.localizedDescription)")
            }
        case .chat, .train, .bench, .attention:
            controller.handle(intent)
        }
    }
}
