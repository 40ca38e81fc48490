"""The shared package of the book *Building GoogLeNet*.

Importing it silences TensorFlow's start-up logging before TensorFlow loads (see
:mod:`googlenet.runtime`), so notebooks stay free of stderr noise. The modules, by what they hold:

* ``data``: Fashion-MNIST, found and verified offline; its input shape, classes and names;
* ``checks``: the argument checks every builder and command shares;
* ``blocks``, ``fused``: the convolution unit and the inception modules, and their fused CPU twins;
* ``models``: every network (plain stacks, the paper's GoogLeNet, the note's and the book's builds, VGG);
* ``cost``: exact parameters and multiply-adds of built models; ``module_cost``: the inception
  modules' costs in closed form;
* ``recipes``: everything that determines a training run, as data;
* ``training``: pipelines, augmentation, schedules and the one training loop;
* ``run_folder``, ``runs``: a run's folder, training it, resuming it, loading it back;
* ``paths``: where the shipped results are; ``provenance``: commit, machine, versions, atomic JSON;
* ``evaluate``: predictions, accuracy, confusion matrices, training curves; ``predictions``: each
  shipped run's predicted classes, saved beside its model;
* ``published``: accuracies others report on Fashion-MNIST, with their sources;
* ``stats``: paired tests of two classifiers on the same images (McNemar, bootstrap intervals), and
  the geometric mean of ratios; ``wording``: counts and lists as the prose writes them;
* ``ablation``: chapter 9's study; ``followups``: chapter 10's and the appendix's arms;
  ``averaging``: a moving average of the weights; ``figures``: the book's plots; ``figure_checks``: their
  legibility (text size, legends, distinct series); ``diagrams``: modules and
  networks drawn from built models; ``receptive``: receptive fields of built models;
* ``gradients``: how much of the loss's gradient reaches each stage (the auxiliary heads' claim);
* ``precision``: float32 or bfloat16, and whether this CPU has bfloat16 in hardware;
* ``bench``, ``throughput``, ``profile``: the benchmark and what it measures; ``thread_scaling``:
  the training step from one CPU thread to all, and what bounds its utilisation.
"""

from . import runtime as runtime  # noqa: I001 - must run before anything imports TensorFlow

runtime.quiet_tensorflow()

from . import (  # noqa: E402
    ablation,
    averaging,
    bench,
    blocks,
    checks,
    cost,
    data,
    diagrams,
    evaluate,
    figure_checks,
    figures,
    followups,
    gradients,
    models,
    module_cost,
    paths,
    precision,
    predictions,
    provenance,
    published,
    receptive,
    recipes,
    run_folder,
    runs,
    stats,
    thread_scaling,
    training,
    wording,
)

__all__ = [
    "ablation",
    "averaging",
    "bench",
    "blocks",
    "checks",
    "cost",
    "data",
    "diagrams",
    "evaluate",
    "figure_checks",
    "figures",
    "followups",
    "gradients",
    "models",
    "module_cost",
    "paths",
    "precision",
    "predictions",
    "provenance",
    "published",
    "receptive",
    "recipes",
    "run_folder",
    "runs",
    "runtime",
    "stats",
    "thread_scaling",
    "training",
    "wording",
]
__version__ = "0.2.0"
