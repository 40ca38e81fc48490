"""Every model of the book, one module per family; each builder returns logits.

* :mod:`~googlenet.models.plain`: chapter 1's plain convolution stacks and classifier heads;
* :mod:`~googlenet.models.paper`: GoogLeNet as in Table 1 of Szegedy et al. (2015), and
  torchvision's variant of it;
* :mod:`~googlenet.models.heads`: the auxiliary heads, the loss that weights them, and the
  rule that finds a model's main output;
* :mod:`~googlenet.models.note`: the study note's reduced build for Fashion-MNIST;
* :mod:`~googlenet.models.improved`: the book's reduced build;
* :mod:`~googlenet.models.vgg`: the VGG-style baseline of chapter 9;
* :mod:`~googlenet.models.resnet`: the CIFAR ResNet behind chapter 10's published anchors.

Importing this package registers the custom Keras classes the shipped models are saved with.
"""

from . import heads, improved, note, paper, plain, resnet, vgg

__all__ = ["heads", "improved", "note", "paper", "plain", "resnet", "vgg"]
