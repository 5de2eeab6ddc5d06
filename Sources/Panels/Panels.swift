/// Namespace for the terminal widgets and panel view models, which render into a screen buffer
/// and never touch curses or the engine.
public enum Panels {}
