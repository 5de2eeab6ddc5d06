import LEMEngine

/// Namespace for LoRA training: backward passes, optimizers, datasets, checkpoints and fuse.
public enum LEMTrainer {}
