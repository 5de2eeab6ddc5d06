"""What the mlx_lm trajectory scripts share (needs mlx_lm installed)."""
import json
import os
import shutil

from mlx_lm.tuner.callbacks import TrainingCallback
from mlx_lm.tuner.datasets import CacheDataset


class Recorder(TrainingCallback):
    """Keeps every training and validation report mlx_lm's trainer makes."""

    def __init__(self):
        self.train, self.val = [], []

    def on_train_loss_report(self, info):
        self.train.append({"step": info["iteration"], "loss": info["train_loss"], "lr": info["learning_rate"],
                           "trained_tokens": info["trained_tokens"]})

    def on_val_loss_report(self, info):
        self.val.append({"step": info["iteration"], "loss": info["val_loss"]})


def write_reference(out, reference, train_set, valid_set, recorder, *temporary):
    """Writes out/reference.json: `reference`, then the tokenized examples as mlx_lm's datasets
    produced them and the recorded reports; then removes the `temporary` folders."""
    reference = dict(reference,
                     train_examples=[CacheDataset(train_set)[i][0] for i in range(len(train_set))],
                     valid_examples=[CacheDataset(valid_set)[i][0] for i in range(len(valid_set))],
                     train=recorder.train, validation=recorder.val)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
    for folder in temporary:
        shutil.rmtree(folder)
