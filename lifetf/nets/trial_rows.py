"""The trainer's version and the columns of the rows it returns, apart from the trainer itself,
so that the trial store, the report and the CI workflow can name them without importing Keras."""

from __future__ import annotations

# Bump when a change alters what training computes: it is part of every cache key.
# 3: boards, dropout masks, orders and sign flips from the counter-based Threefry generator.
# 4: one-step networks that see one 3x3 window per output take their loss as a sum over the
#    512 windows weighted by how often each occurs in the batch (the same function; the float
#    sums run in another order).
# 5: 1x1 layers of 17-24 kernel entries per member (6 -> 3 at width 3, 20 -> 1 at width 20)
#    take the batched product instead of unrolled multiply-adds (float sums in another order).
TRAINER_VERSION = "5"

# what every trained trial's row holds, in this order (lifetf.nets.train.train_members)
ROW_COLUMNS = (
    "seed",
    "success",
    "match_rate",
    "cell_accuracy",
    "all_dead_rate",
    "initial_loss",
    "final_loss",
    "truth_table",
    "table_errors",
    "train_seconds",
    "loss_curve",
    "grad_norm_curve",
    "weights",
)
