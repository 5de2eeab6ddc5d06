// Legend for buffer shapes in kernel comments:
//   T tokens, C channels (hidden size), H query heads, K key/value heads, D head dim,
//   F feed-forward (intermediate) size, V vocabulary, L layers.

/// Namespace for the numeric kernels: static functions over raw buffers, each with a plain
/// naive loop kept beside any fast path as its test oracle.
public enum Kernels {}
