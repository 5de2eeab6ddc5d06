/// The training panel: status strip, braille loss chart (raw and smoothed train loss,
/// validation loss, best-validation marker, linear/log y, zoom to the last N steps), the probe
/// score chart beside it when the run probes, and the learning-rate curve.
public struct TrainPanel: Panel {
    public var model: TrainViewModel
    public var logScale = false
    /// Show only the last N steps (nil: everything).
    public var zoomLast: Int?
    /// EMA factor for the smoothed train loss.
    public var smoothing = 0.9
    static let smoothingSteps = [0.0, 0.6, 0.9, 0.97]
    /// The new-run form while it is open.
    var form: FormState?
    /// The form rows the user typed in or picked (they win over the YAML file).
    var formTyped: Set<String> = []
    /// The form rows whose values came from the YAML file.
    var fromConfig: Set<String> = []
    /// Why the YAML file entered in the form cannot be used, if it cannot.
    var formNote: String?
    /// The checkpoint "chat with checkpoint" opens (an index into `model.checkpoints`; nil: the newest).
    public var selectedCheckpoint: Int?
    /// The probe answers viewer while it is open.
    public var probeViewer: ProbeViewer?
    /// The model the Chat panel has loaded (set by the workbench): the form's default model.
    public var chatModelPath: String?

    /// Creates the panel over a view model.
    public init(model: TrainViewModel = TrainViewModel()) { self.model = model }

    public var title: String { "Train" }
    public var keyContext: String { "train" }
    public var runningWork: [String] {
        guard model.isRunning, model.isLocalRun else { return [] }
        return ["training \(model.runName) (iteration \(model.step)\(model.totalSteps.map { " of \($0)" } ?? ""))"]
    }
    public var capturesText: Bool { form?.editor != nil }

    public func hints(keys: KeyMap) -> [KeyHint] {
        if probeViewer != nil {
            return [KeyHint("←→", "probe"), KeyHint("↑↓", "scroll"), KeyHint("Esc", "close")]
        }
        if let f = form {
            if f.editor != nil { return [KeyHint("Enter", "keep"), KeyHint("Esc", "undo")] }
            return [KeyHint("↑↓", "field"), KeyHint("Enter", "edit / start"), KeyHint("Esc", "close")]
        }
        return [
            keys.hint("train.new-run", "new run"), keys.hint("train.resume", "resume"),
            KeyHint(keys.keyName("train.previous-checkpoint") + keys.keyName("train.next-checkpoint"), "checkpoint"),
            keys.hint("train.chat-checkpoint", "chat with checkpoint"),
            keys.hint("train.probe-answers", "probe answers"),
            keys.hint("train.log-scale", logScale ? "linear" : "log"), keys.hint("train.zoom-in", "zoom in"),
            keys.hint("train.zoom-out", "zoom out"), keys.hint("train.zoom-reset", "all steps"),
            keys.hint("train.smoothing", "smoothing \(Fmt.fixed(smoothing, 2))"), keys.hint("train.stop", "stop"),
            keys.hint("global.help", "help"), keys.hint("global.quit", "quit")
        ]
    }

    public func helpLines(keys: KeyMap) -> [StyledLine] {
        helpTable(
            keys,
            [
                ("train.log-scale", "toggle log / linear y axis"), ("train.zoom-in", "show fewer, more recent steps"),
                ("train.zoom-out", "show more steps"), ("train.zoom-reset", "show all steps"),
                ("train.smoothing", "cycle EMA smoothing of the train loss"), ("train.stop", "stop training"),
                ("train.new-run", "start a run from a form or a YAML config"),
                ("train.resume", "resume from the last run's adapter"),
                ("train.previous-checkpoint", "select an earlier checkpoint"),
                ("train.next-checkpoint", "select a later checkpoint"),
                ("train.chat-checkpoint", "chat with the selected checkpoint (opens Chat)"),
                ("train.probe-answers", "show the last probe's answers and scores (←→ other probes)")
            ]) + [
                "",
                StyledLine(
                    "Chart: dim = raw train loss, bright = smoothed, orange = validation, ◆ = best validation.",
                    .role(.textDim)),
                StyledLine(
                    "Curriculum runs: ┊ marks where each phase begins, with its number and name; the Phases table",
                    .role(.textDim)),
                StyledLine(
                    "lists each phase's iterations, last train and val loss and eval scores (base: before phase 1).",
                    .role(.textDim)),
                StyledLine(
                    "Probe chart (runs with probe_every): mean heuristic score of the probe answers per probed save.",
                    .role(.textDim))
            ]
    }

    /// The step range currently shown.
    public var stepRange: ClosedRange<Int>? {
        guard let n = zoomLast, let last = model.trainLoss.last?.step ?? model.validationLoss.last?.step else {
            return nil
        }
        return max(0, last - n)...max(last, 1)
    }

    public func render(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        guard !area.isEmpty else { return }
        let (status, rest) = area.splitTop(min(4, area.height))
        renderStatus(into: &buffer, area: status)
        let phaseRows = model.phaseRows
        // A curriculum's phase table goes under the loss chart; the learning rate gives way first.
        let lrHeight = rest.height - (phaseRows.isEmpty ? 0 : phaseRows.count + 3) >= 18 ? 7 : 0
        let (charts, lrArea) = rest.splitBottom(lrHeight)
        let (chartArea, tableArea) = charts.splitBottom(
            Self.phaseTableHeight(rows: phaseRows.count, available: charts.height))
        if !tableArea.isEmpty { renderPhaseTable(phaseRows, into: &buffer, area: tableArea) }
        let (lossArea, probeArea) = chartArea.splitRight(
            Self.probeChartWidth(chartArea.width, hasProbes: !model.probes.isEmpty))
        if !probeArea.isEmpty { renderProbeChart(into: &buffer, area: probeArea) }
        let lossBlock = Block(title: "Loss · \(model.runName)", rightTitle: legend, focused: focused)
        lossBlock.render(into: &buffer, area: lossArea)
        let smoothed = TrainViewModel.ema(model.trainLoss, alpha: smoothing)
        var series = [ChartSeries(model.trainLoss, .role(.lossTrain))]
        if smoothing > 0 { series.append(ChartSeries(smoothed, .role(.lossSmooth))) }
        series.append(ChartSeries(model.validationLoss, .role(.lossVal)))
        let markers = model.bestValidation.map { [ChartMarker($0, glyph: "◆", color: .role(.lossBest))] } ?? []
        var allMarkers = markers
        if let i = checkpointIndex {
            allMarkers.append(
                ChartMarker(
                    LossPoint(step: model.checkpoints[i].step, value: nearestLoss(model.checkpoints[i].step)),
                    glyph: "▼", color: .role(.accent)))
        }
        var chart = LineChart(series: series, markers: allMarkers, logScale: logScale, stepRange: stepRange)
        chart.boundaries = model.phases.map { ChartBoundary(step: $0.step, label: "\($0.index + 1) \($0.name)") }
        chart.render(into: &buffer, area: lossBlock.inner(lossArea))
        if lrHeight > 0 {
            let lrBlock = Block(
                title: "Learning rate", rightTitle: model.learningRate.last.map { Fmt.value($0.value) } ?? "")
            lrBlock.render(into: &buffer, area: lrArea)
            LineChart(series: [ChartSeries(model.learningRate, .role(.learningRate))], stepRange: stepRange).render(
                into: &buffer, area: lrBlock.inner(lrArea))
        }
        if let f = form { renderForm(f, into: &buffer, area: area, focused: focused) }
        if let v = probeViewer { renderProbeViewer(v, into: &buffer, area: area) }
    }

    var legend: String {
        var s = "train"
        if let last = model.trainLoss.last { s += " " + Fmt.value(last.value) }
        if let v = model.validationLoss.last { s += " · val " + Fmt.value(v.value) }
        if let b = model.bestValidation { s += " · best " + Fmt.value(b.value) + "@\(b.step)" }
        if let n = zoomLast { s += " · last \(n)" }
        return s
    }

    func renderStatus(into buffer: inout ScreenBuffer, area: Rect) {
        let block = Block(
            title: model.isRunning ? "Training" : "Run",
            rightTitle: model.issues.isEmpty ? "" : "\(model.issues.count) bad log lines")
        block.render(into: &buffer, area: area)
        let inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !inner.isEmpty else { return }
        let total = model.totalSteps
        let iter = "iter \(model.step)" + (total.map { "/\($0)" } ?? "")
        var x = buffer.put(iter + "  ", x: inner.x, y: inner.y, style: .role(.text, .bold), maxX: inner.maxX)
        let barWidth = max(0, min(30, inner.maxX - x - 40))
        if let t = total, t > 0, barWidth > 4 {
            let f = Double(model.step) / Double(t)
            ProgressBar(fraction: f, label: Fmt.fixed(f * 100, 0) + "%").render(
                into: &buffer, area: Rect(x: x, y: inner.y, width: barWidth, height: 1))
            x += barWidth + 2
        }
        var parts: [String] = []
        if let phase = model.phases.last { parts.append("phase \(phase.index + 1) \(phase.name)") }
        if let p = model.probes.last { parts.append("probe " + p.summary) }
        // An estimate only while the run goes: a stopped run's last one would mislead.
        if model.isRunning, let eta = model.eta { parts.append("ETA " + Fmt.duration(eta)) }
        if let t = model.tokensPerSecond { parts.append(Fmt.count(t) + " tok/s") }
        if let t = model.trainedTokens { parts.append(Fmt.count(t) + " tokens") }
        if let m = model.peakMemoryGB { parts.append("peak " + Fmt.fixed(m, 2) + " GB") }
        buffer.put(parts.joined(separator: "  "), x: x, y: inner.y, style: .role(.text), maxX: inner.maxX)
        if inner.height > 1 {
            var l = StyledLine()
            if let chosen = selectedCheckpoint, chosen < model.checkpoints.count {
                // A checkpoint picked with [ or ] shows until the next run, whatever else goes on.
                l.append(
                    "◀ checkpoint \(chosen + 1)/\(model.checkpoints.count) @\(model.checkpoints[chosen].step) ▶ ",
                    .role(.accent, .bold))
                l.append(model.checkpointPaths[chosen], .role(.text))
            } else if model.isValidating {
                l.append("validating at iteration \(model.step)…", .role(.info))
            } else if let status = model.status {
                l.append(status, .role(.info))
            } else if let last = checkpointIndex {
                l.append(
                    "checkpoint \(last + 1)/\(model.checkpoints.count) @\(model.checkpoints[last].step) ",
                    .role(.success))
                l.append(model.checkpointPaths[last], .role(.textDim))
            } else if let issue = model.issues.last {
                l.append(issue, .role(.warning))
            } else {
                l.append(model.trainLoss.isEmpty ? "waiting for the first loss…" : "no checkpoint yet", .role(.textDim))
            }
            buffer.put(l, x: inner.x, y: inner.y + 1, maxX: inner.maxX)
        }
    }

    public mutating func handle(_ event: InputEvent, area: Rect, keys: KeyMap, emit: (WorkbenchIntent) -> Void)
        -> EventResult
    {
        if probeViewer != nil, case .key(let k) = event { return handleProbeViewer(k) }
        if form != nil, case .key(let k) = event { return handleForm(k, emit: emit) }
        switch event {
        case .paste(let text):
            guard var f = form, f.paste(text) else { return .ignored }
            form = f
            return .redraw
        case .mouse(let m):
            if m.action == .wheelUp { return perform("zoom-in", emit: emit) }
            if m.action == .wheelDown { return perform("zoom-out", emit: emit) }
            return .ignored
        case .key(let k):
            guard let action = keys.action(for: k, in: keyContext) else { return .ignored }
            return perform(action, emit: emit)
        }
    }

    mutating func perform(_ action: String, emit: (WorkbenchIntent) -> Void) -> EventResult {
        let span = (model.trainLoss.last?.step ?? 0) - (model.trainLoss.first?.step ?? 0)
        switch action {
        case "log-scale": logScale.toggle()
        case "zoom-in": zoomLast = max(10, (zoomLast ?? max(span, 10)) / 2)
        case "zoom-out":
            guard let z = zoomLast else { return .handled }
            zoomLast = z * 2 >= span ? nil : z * 2
        case "zoom-reset": zoomLast = nil
        case "smoothing":
            let i = Self.smoothingSteps.firstIndex(of: smoothing) ?? 0
            smoothing = Self.smoothingSteps[(i + 1) % Self.smoothingSteps.count]
        case "stop":
            guard model.isRunning, model.isLocalRun else { return .handled }
            emit(.train(.stop))
        case "new-run":
            guard !(model.isRunning && model.isLocalRun) else { return .handled }
            openForm()
        case "resume":
            guard !model.isRunning, model.adapterFolder != nil else { return .handled }
            emit(.train(.resume))
        case "previous-checkpoint", "next-checkpoint":
            guard let current = checkpointIndex else { return .handled }
            let next = current + (action == "next-checkpoint" ? 1 : -1)
            selectedCheckpoint = min(model.checkpoints.count - 1, max(0, next))
        case "chat-checkpoint":
            guard let i = checkpointIndex, !model.checkpointPaths[i].isEmpty else { return .handled }
            emit(.chat(.useAdapter(model.checkpointPaths[i], model: model.baseModelPath)))
        case "probe-answers":
            guard !model.probes.isEmpty else { return .handled }
            openProbeViewer()
        default: return .ignored
        }
        return .redraw
    }
}
