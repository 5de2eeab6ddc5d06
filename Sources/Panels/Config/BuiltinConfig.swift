/// The built-in themes and key bindings, identical to the files in `themes/` and `keys/`
/// (a test compares them) so the program works without those files installed.
enum BuiltinConfig {
    /// The built-in themes, default first.
    static let themes: [(name: String, text: String)] = [
        (
            "dark",
            #"""
            # LEM Workbench theme: dark (the built-in default; other themes override what they name).
            # Format: `role = #rrggbb` or `role = default` (the terminal's own colour). Lines starting with
            # `#` followed by a space are comments. Colours degrade to 256 and 8 colours automatically.
            text = #d0d0d0
            text.dim = #808080
            background = default
            border = #4e4e4e
            border.focus = #5fafff
            title = #a8a8a8
            title.focus = #87d7ff
            selection = #303a4a
            selection.text = #ffffff
            cursor = #ffffff
            footer.key = #ffd75f
            footer.text = #bcbcbc
            footer.background = #1c1c1c
            tab.active = #ffffff
            tab.inactive = #8a8a8a
            accent = #5fafff
            error = #ff5f5f
            warning = #ffaf00
            success = #87d75f
            info = #5fd7d7
            chat.user = #87afff
            chat.assistant = #d0d0d0
            chat.system = #af87d7
            heading = #ffaf5f
            code = #afd787
            code.background = #262626
            bold = #ffffff
            diverge = #ff5f87
            loss.train = #5f87af
            loss.smooth = #5fd7ff
            loss.val = #ffaf00
            loss.best = #87ff87
            lr = #af87ff
            axis = #6c6c6c
            progress = #5fafff
            progress.empty = #262626
            table.header = #ffd75f
            delta.up = #87d75f
            delta.down = #ff5f5f
            highlight = #ffd700
            heat.low = #000033
            heat.mid = #c0305f
            heat.high = #ffff80
            modal.background = #1c1c1c
            """#
        ),
        (
            "light",
            #"""
            # LEM Workbench theme: light, on its own white background (so it reads on a dark terminal too).
            text = #1c1c1c
            text.dim = #6c6c6c
            background = #ffffff
            border = #a8a8a8
            border.focus = #005faf
            title = #4e4e4e
            title.focus = #005faf
            selection = #d7e6ff
            selection.text = #000000
            cursor = #000000
            footer.key = #875f00
            footer.text = #3a3a3a
            footer.background = #e4e4e4
            tab.active = #000000
            tab.inactive = #6c6c6c
            accent = #005faf
            error = #d70000
            warning = #af5f00
            success = #008700
            info = #008787
            chat.user = #005faf
            chat.assistant = #1c1c1c
            chat.system = #875faf
            heading = #af5f00
            code = #005f00
            code.background = #eeeeee
            bold = #000000
            diverge = #d7005f
            loss.train = #5f87af
            loss.smooth = #005f87
            loss.val = #d75f00
            loss.best = #008700
            lr = #875fd7
            axis = #8a8a8a
            progress = #005faf
            progress.empty = #dadada
            table.header = #875f00
            delta.up = #008700
            delta.down = #d70000
            highlight = #ffd700
            heat.low = #ffffff
            heat.mid = #ff8700
            heat.high = #5f0000
            modal.background = #f0f0f0
            """#
        ),
        (
            "high-contrast",
            #"""
            # LEM Workbench theme: high contrast (pure colours, black backdrop; good on 8-colour terminals).
            text = #ffffff
            text.dim = #c0c0c0
            border = #ffffff
            border.focus = #ffff00
            title = #ffffff
            title.focus = #ffff00
            selection = #0000ff
            selection.text = #ffffff
            cursor = #ffff00
            footer.key = #ffff00
            footer.text = #ffffff
            footer.background = #000000
            tab.active = #ffff00
            tab.inactive = #ffffff
            accent = #00ffff
            error = #ff0000
            warning = #ffff00
            success = #00ff00
            info = #00ffff
            chat.user = #00ffff
            chat.assistant = #ffffff
            chat.system = #ff00ff
            heading = #ffff00
            code = #00ff00
            code.background = #000000
            bold = #ffffff
            diverge = #ff00ff
            loss.train = #00ffff
            loss.smooth = #ffffff
            loss.val = #ffff00
            loss.best = #00ff00
            lr = #ff00ff
            axis = #ffffff
            progress = #00ff00
            progress.empty = #000000
            table.header = #ffff00
            delta.up = #00ff00
            delta.down = #ff0000
            highlight = #ffff00
            heat.low = #000000
            heat.mid = #ff0000
            heat.high = #ffffff
            modal.background = #000000
            """#
        ),
        (
            "amber",
            #"""
            # LEM Workbench theme: amber, a warm monochrome phosphor look (names only what differs from dark).
            text = #ffb000
            text.dim = #a06800
            border = #704800
            border.focus = #ffcc00
            title = #c08000
            title.focus = #ffcc00
            selection = #402800
            selection.text = #ffe0a0
            cursor = #ffe0a0
            footer.key = #ffe0a0
            footer.text = #c08000
            footer.background = #1a1000
            tab.active = #ffe0a0
            tab.inactive = #a06800
            accent = #ffcc00
            chat.user = #ffd060
            chat.assistant = #ffb000
            heading = #ffe0a0
            code = #e0a000
            loss.train = #a06800
            loss.smooth = #ffcc00
            loss.val = #fff0c0
            lr = #c08000
            heat.low = #100800
            heat.mid = #a05000
            heat.high = #ffe0a0
            modal.background = #1a1000
            """#
        )
    ]

    /// The built-in key bindings.
    static let keys = #"""
        # LEM Workbench key bindings (the built-in defaults).
        # Format: `context.action = key, key`. A user file ($XDG_CONFIG_HOME/lem/keys or
        # ~/.config/lem/keys) overrides only the actions it names. Key names: single characters,
        # enter, esc, tab, backtab, backspace, delete, up, down, left, right, home, end, pgup, pgdn,
        # space, f1-f24, with ctrl-, alt- or shift- in front.
        global.quit = q, ctrl-q, ctrl-c
        global.help = ?, f1
        global.palette = :, ctrl-p
        global.next-panel = ctrl-right, alt-right
        global.previous-panel = ctrl-left, alt-left
        global.chat = 1, alt-1
        global.train = 2, alt-2
        global.bench = 3, alt-3
        global.attention = 4, alt-4
        global.theme = ctrl-t
        chat.send = enter
        chat.newline = alt-enter, ctrl-j
        chat.cancel = esc
        chat.regenerate = ctrl-r
        chat.edit-last = alt-e
        chat.scroll-up = pgup
        chat.scroll-down = pgdn
        chat.toggle-side = ctrl-b
        chat.kernel-mode = alt-k
        chat.split = ctrl-s
        chat.clear = ctrl-l
        chat.settings = f2, alt-s
        chat.sessions = f3, alt-o
        chat.new-session = alt-n
        train.log-scale = l
        train.zoom-in = +, =
        train.zoom-out = -
        train.zoom-reset = 0
        train.smoothing = s
        train.stop = x
        train.new-run = n
        train.resume = r
        train.previous-checkpoint = [
        train.next-checkpoint = ]
        train.chat-checkpoint = c
        train.probe-answers = p
        bench.next-view = tab
        bench.previous-view = backtab
        bench.up = up, k
        bench.down = down, j
        bench.scroll-left = left, h
        bench.scroll-right = right, l
        bench.page-up = pgup
        bench.page-down = pgdn
        bench.open = enter
        bench.back = esc
        bench.filter = /
        bench.sort = o
        bench.baseline = b
        bench.compare = c
        bench.run = r
        bench.score = s
        bench.judge = J, alt-j
        bench.cancel = x
        bench.reload = f5, ctrl-r
        bench.to-chat = alt-c
        bench.to-attention = alt-a
        attention.up = up, k
        attention.down = down, j
        attention.left = left, h
        attention.right = right, l
        attention.switch = tab
        attention.open = enter
        attention.statistic = s
        attention.prompt = p
        attention.run = r
        attention.compare = c
        """#
}
