/// Something that draws itself into a rectangle of a screen buffer.
///
/// Widgets are cheap values built for each frame; long-lived state (selection, scroll offsets,
/// input text) lives in separate state types that the panels own.
protocol Widget {
    /// Draws into `area` of `buffer`; must tolerate any area, including empty ones.
    func render(into buffer: inout ScreenBuffer, area: Rect)
}
