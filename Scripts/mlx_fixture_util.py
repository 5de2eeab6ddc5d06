"""What the mlx_lm trajectory scripts share (needs mlx_lm installed)."""
from mlx_lm.tuner.callbacks import TrainingCallback


class Recorder(TrainingCallback):
    """Keeps every training and validation report mlx_lm's trainer makes."""

    def __init__(self):
        self.train, self.val = [], []

    def on_train_loss_report(self, info):
        self.train.append({"step": info["iteration"], "loss": info["train_loss"], "lr": info["learning_rate"],
                           "trained_tokens": info["trained_tokens"]})

    def on_val_loss_report(self, info):
        self.val.append({"step": info["iteration"], "loss": info["val_loss"]})
