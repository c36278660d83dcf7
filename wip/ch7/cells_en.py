CELLS = [
("md", r"""
# Which of AlexNet's ideas matter?

Chapters 3 to 5 took AlexNet's ideas one at a time, each in a setting chosen to show it. This
chapter asks the question the other way round: train the whole network, change one idea at a
time, and measure what each change costs or gains. That is an *ablation study*. It answers two
questions the book left open: which of the architecture's details matter
([chapter 2](02_architecture.ipynb)), and whether the 2012 training recipe beats Adam
([chapter 6](06_training.ipynb)). It ends with what came after AlexNet: which of its ideas
survived, and what replaced the others.
"""),
("md", r"""
## Overview

**What you will learn**

- what an ablation study is, and why it changes one thing at a time;
- why the regime decides what an ablation can show, and which regime this one uses;
- how to read a mean ± standard deviation over seeds, and why differences between runs from
  the same seed (paired differences) say more than two means do;
- which of AlexNet's ideas matter when it learns 5,000 Fashion-MNIST images at 67×67 pixels,
  and how that compares with what the paper measured on ImageNet;
- what came after AlexNet (VGG, global average pooling, batch normalisation, ResNet), and how
  to start from AlexNet's ImageNet weights instead of from scratch.

**What you need**

- chapters 3 to 6 (ReLU, dropout, augmentation, training); the mean and the standard
  deviation;
- no GPU: the chapter reads recorded runs. Training them all again takes hours on a CPU
  (exercise 4 trains one).
"""),
("md", r"""
The chapter reads its records through `alexnet_lib.experiments` and draws with matplotlib;
torchvision provides the pretrained AlexNet at the end:
"""),
("code", r"""
import matplotlib.pyplot as plt
import torch
from torch import nn

from alexnet_lib import AlexNet, plot_experiment_curves
from alexnet_lib.book.columns import left, right
from alexnet_lib.experiments import (
    EXPERIMENTS,
    compare_columns,
    mean_sd,
    recorded_experiment,
    run_experiment,
)
from alexnet_lib.pretrained import pretrained_alexnet
"""),
("md", r"""
## What is an ablation study?

An ablation study removes or replaces one part of a system and measures what changes, with
everything else as it was: the data, the number of epochs, the batch size, the seeds. If the
network without dropout scores lower than the network with it and nothing else differed, the
difference is dropout's doing, up to the randomness of training.

That randomness is the catch. Two runs of one recipe from two seeds start from different
weights, see the batches in a different order, and end with different accuracies. So each
variant here is trained from three seeds, and the chapter reports the mean and the standard
deviation (sd) of their test accuracies. A difference between two variants means something
only when it is large against that spread.

The 2012 paper measured some of its own ideas this way, on ImageNet, one run each. Local
response normalisation (LRN) lowered its top-1 and top-5 error rates by 1.4 and 1.2 percentage
points, overlapping pooling by 0.4 and 0.3. Without dropout the network "exhibits substantial
overfitting", and without data augmentation it "suffers from substantial overfitting". Its
Figure 1 compared ReLU with tanh in a small network on CIFAR-10, which
[chapter 3](03_relu_vs_sigmoid.ipynb) repeats.
"""),
("md", r"""
## Which regime, and why?

An idea can only show its worth where it has something to act on. Dropout and augmentation
fight overfitting, so the network must be able to overfit: it gets few images (5,000 of the
60,000) and many passes over them (20 epochs). An activation function or an optimiser shows
itself in how fast training gets somewhere, so every variant gets the same budget of steps.
And 27 runs (nine variants, three seeds each) must fit a CPU: at 67×67 pixels one run takes
about a quarter of an hour on one core, where 224×224 would take about ten times as long.

The small input has a price, and it is the first thing to keep in mind when reading the
results. At 67 px the last feature map is 1×1, so the first fully connected layer, the one
dropout guards, is much smaller than at AlexNet's own size:
"""),
("code", r"""
def fc0_weights(image_size):
    # "meta" tensors have shapes but no values: nothing is allocated
    with torch.device("meta"):
        return AlexNet(image_size=image_size).fc[0].weight.numel()


for size in (67, 224):
    print(f"{size} px: fc.0 has {fc0_weights(size) / 1e6:.1f} million weights")
print(f"{fc0_weights(224) / fc0_weights(67):.0f} times fewer at 67 px")
"""),
("md", r"""
The maps that pooling and LRN act on are small as well. The sizes after each pooling layer, for
the two kinds of pooling the ablation compares:
"""),
("code", r"""
for pooling in ("overlapping", "non-overlapping"):
    x = torch.zeros(1, 1, 67, 67)
    sizes = []
    for layer in AlexNet(image_size=67, pooling=pooling).conv:
        x = layer(x)
        if isinstance(layer, nn.MaxPool2d):
            sizes.append(f"{x.shape[-1]}×{x.shape[-1]}")
    print(left(f"{pooling} pooling:", 26) + ", ".join(sizes))
"""),
("md", r"""
The two kinds give maps of the same sizes, so the comparison isolates the overlap of the
windows, as the paper's did. What this regime can show is whether an idea helps AlexNet learn
from few small images. What it cannot show is an effect that needs ImageNet's 1.2 million
photographs, its 1,000 classes or 224-pixel inputs; a GPU column further down is kept for the
same experiment at 224 px.

The baseline is AlexNet as [chapter 6](06_training.ipynb) trains it, fitted to this regime:
ReLU, dropout 0.5, random flips and crops, overlapping pooling, no LRN, and Adam at 0.001 with
warm-up and linear decay; 2,000 other training images are held out for validation. Each
variant changes one thing:
"""),
("code", r"""
experiment = EXPERIMENTS["ablation"]
names = {
    "baseline": "baseline",
    "no dropout": "no dropout",
    "no augmentation": "no augmentation",
    "tanh": "tanh instead of ReLU",
    "sigmoid": "sigmoid instead of ReLU",
    "with LRN": "with LRN",
    "non-overlapping pooling": "non-overlapping pooling",
    "2012 recipe (SGD)": "2012 recipe (SGD)",
    "with batch norm": "with batch norm",
}
for label in experiment.variants:
    changes = experiment.changes(label)
    print(left(names[label], 26), ", ".join(f"{k}={v}" for k, v in changes.items()) or "-")
""", ["nbval-check-output"]),
("md", r"""
The "2012 recipe" row changes the optimiser and its schedule together, because they belong
together: SGD with momentum 0.9, weight decay 5e-4 and a learning rate of 0.01, divided by 10
whenever the validation accuracy stops rising. "With batch norm" adds batch normalisation
after each convolution, the idea that replaced LRN in 2015 (see the last section).
"""),
("md", r"""
## How accurate is each variant?

`run_experiment` reads the recorded runs; it would train only what the record lacks, and its
first line says which it did. The settings and the machine come next:
"""),
("code", r"""
result = run_experiment("ablation")
print(result.settings_line(LANG))
"""),
("md", r"""
For each variant, the mean ± sd over the three seeds of the training accuracy (measured in
evaluation mode on the 5,000 training images, without augmentation), the test accuracy and the
test loss, both on all 10,000 test images:
"""),
("code", r"""
print(result.table(names, lang=LANG, metrics=["train_acc_eval", "test_acc", "test_loss"]))
"""),
("md", r"""
<!-- TODO(results): read the table -->
"""),
("md", r"""
The same experiment at AlexNet's own input size needs a GPU. Its column reads the record
`ablation-224` where the book's GPU check has made one, and says "not run yet" where it has
not:
"""),
("code", r"""
columns = {"67 px, CPU": result, "224 px, GPU": recorded_experiment("ablation-224")}
print(compare_columns(columns, list(experiment.variants), names, baseline="baseline",
                      lang=LANG))
"""),
("md", r"""
## Which differences are larger than the noise?

Runs from the same seed share their data order, their validation split and, where their layers
agree, their initial weights. Comparing each variant with the baseline seed by seed removes the
part of the spread that the two share. For each variant the three paired differences give a
mean and a standard error, sd/√3; a mean more than about two standard errors away from zero is
unlikely to be chance alone. With three seeds that rule is rough: treat a difference near it as
a hint, not a finding.
"""),
("code", r"""
print(left("variant", 26) + right("per seed", 22) + right("mean", 8) + right("± s.e.", 8))
for label in list(experiment.variants)[1:]:
    diffs = [100 * d for d in result.differences(label, "baseline")]
    mean, sd = mean_sd(diffs)
    se = sd / len(diffs) ** 0.5
    beyond = "  beyond 2 s.e." if abs(mean) > 2 * se else ""
    print(left(names[label], 26) + right(" ".join(f"{d:+.1f}" for d in diffs), 22)
          + right(f"{mean:+.1f}", 8) + right(f"{se:.1f}", 8) + beyond)
"""),
("md", r"""
The same differences as a figure: each bar is a mean with ± 2 standard errors, each dot one
seed. A variant far off the scale is written out at the edge instead:
"""),
("code", r"""
labels = list(experiment.variants)[1:]
diffs = {label: [100 * d for d in result.differences(label, "baseline")] for label in labels}
means = {label: mean_sd(diffs[label])[0] for label in labels}
near = [m for m in means.values() if m > -20]
low, high = min(near) - 1.5, max(max(near), 0) + 1.5
fig, ax = plt.subplots(figsize=(7, 3.8))
for row, label in enumerate(labels):
    mean, sd = mean_sd(diffs[label])
    if mean < low:  # off the scale: the number, not the bar
        ax.text(low, row, f"← {mean:.0f}", va="center", ha="left")
        continue
    ax.barh(row, mean, xerr=2 * sd / len(diffs[label]) ** 0.5, color="tab:blue", alpha=0.6,
            capsize=3)
    ax.plot(diffs[label], [row] * len(diffs[label]), "k.", markersize=5)
ax.set_yticks(range(len(labels)), [names[label] for label in labels])
ax.set_xlim(low, high)
ax.axvline(0, color="black", linewidth=0.8)
ax.invert_yaxis()
ax.set_xlabel("test accuracy minus the baseline's, percentage points")
ax.set_title("What each change does (3 seeds, ± 2 standard errors)")
ax.grid(axis="x", alpha=0.3)
plt.show()
"""),
("md", r"""
<!-- TODO(results): describe the figure -->
"""),
("md", r"""
## How did the variants learn?

The validation accuracy after every epoch shows whether a variant starts behind, catches up or
falls back; the bands are ± one sd over the seeds. Sigmoid stays at chance and is left out, so
that the others can be told apart:
"""),
("code", r"""
shown = [label for label in experiment.variants if label != "sigmoid"]
fig, ax = plt.subplots(figsize=(7, 4.2))
plot_experiment_curves(result, shown, names, ax=ax, lang=LANG)
ax.set_title("Validation accuracy during training")
ax.legend(fontsize=8, ncol=2)
plt.show()
"""),
("md", r"""
<!-- TODO(results): describe the curves -->
"""),
("md", r"""
## What does each idea do here, and on ImageNet?

<!-- TODO(results): one paragraph per idea -->
"""),
("md", r"""
## What came after AlexNet?

AlexNet won the ImageNet challenge of 2012 with a top-5 error of 15.3%, against 26.2% for the
next entry. Within three years its ideas had been sorted: some kept, some replaced.

**Small filters, deep stacks (VGG, 2014).** Simonyan and Zisserman replaced the 11×11 and 5×5
filters by stacks of 3×3 convolutions: two 3×3 layers see a 5×5 window and three see 7×7, with
fewer weights and a ReLU between each. Their 16- and 19-layer networks brought the top-5 error
down to about 7%. They tried LRN as well, found that it did not help, and left it out.

**A head without millions of weights (Network in Network, 2013; GoogLeNet, 2014).** Most of
AlexNet's parameters sit in its fully connected head ([chapter 1](01_lenet_to_alexnet.ipynb)).
Lin, Chen and Yan averaged each of the last feature maps to a single number, *global average
pooling*, and classified from those averages. GoogLeNet did the same before one linear layer,
and with 22 layers used 12 times fewer parameters than AlexNet, with a top-5 error of 6.7%. For
the book's AlexNet at 224 px, such a head would look like this:
"""),
("code", r"""
net = AlexNet()  # 224 px, 10 classes
conv = sum(p.numel() for p in net.conv.parameters())
head = sum(p.numel() for p in net.fc.parameters())
pooled_head = sum(p.numel() for p in nn.Linear(256, 10).parameters())
print(left("convolutions:", 34) + f"{conv:>11,}")
print(left("fully connected head:", 34) + f"{head:>11,}")
print(left("global average pooling + Linear:", 34) + f"{pooled_head:>11,}")
""", ["nbval-check-output"]),
("md", r"""
With the big head gone, dropout lost most of what it guarded: GoogLeNet kept one dropout layer
before its classifier, ResNet none.

**Batch normalisation (2015).** Ioffe and Szegedy normalised each channel's activations over
the batch, then let the network rescale and shift them with two learned parameters per
channel. It lets far larger learning rates train stably, and it replaced LRN, which normalised
across neighbouring channels with fixed constants. The ablation's "with batch norm" row
measures it here. <!-- TODO(results): one sentence with the number -->

**Skip connections (ResNet, 2015).** He, Zhang, Ren and Sun found that stacking more plain
layers made even the *training* error worse. They added each block's input to its output,
$y = x + F(x)$, so that a block only has to learn a change to what it receives, and the
gradient has a direct path back through every block. Their networks trained with over 100
layers; an ensemble reached 3.6% top-5 error in 2015.

**Transfer learning.** A network trained on ImageNet has learned features, edges and textures
first, that help on other images too. Instead of training from scratch you can start from its
weights, replace the last layer for your classes and train only that layer, or fine-tune all
of them with a small learning rate. torchvision ships AlexNet weights learned on ImageNet (its
AlexNet is the single-GPU version of 2014, with 64, 192, 384, 256 and 256 channels). The cell
loads them where they can be downloaded and says so where they cannot (offline, say):
"""),
("code", r"""
pretrained, loaded = pretrained_alexnet(lang=LANG)
print(left("first layer:", 14) + str(pretrained.features[0]))
print(left("last layer:", 14) + str(pretrained.classifier[6]))
"""),
("md", r"""
Two things stand in the way of Fashion-MNIST: the first convolution expects three colour
channels, and the last layer gives 1,000 ImageNet scores. Exercise 5 changes both.
"""),
("md", r"""
## Summary

<!-- TODO(results): summary bullets -->
"""),
("md", r"""
## Exercises

**Exercise 1** (coding). The table's sd describes each variant on its own. Compute the standard
error of the "no dropout" row's difference from the baseline, in percentage points, from the
three paired differences (`result.differences`). Then compute it *unpaired*, from the two
variants' own sds, $\sqrt{s_1^2/3 + s_2^2/3}$. Which is smaller, and why can pairing help?
"""),
("code", r"""
from alexnet_lib.book.exercises import check_paired_error

paired_se = 0.0  # the paired standard error of "no dropout" minus the baseline, in points
check_paired_error(paired_se, result, lang=LANG)
"""),
("md", r"""
<details><summary>Solution</summary>

```python
diffs = [100 * d for d in result.differences("no dropout", "baseline")]
paired_se = mean_sd(diffs)[1] / len(diffs) ** 0.5
a, b = result.final("no dropout"), result.final("baseline")
(_, sa), (_, sb) = mean_sd(a), mean_sd(b)
unpaired_se = 100 * (sa**2 / len(a) + sb**2 / len(b)) ** 0.5
print(f"paired {paired_se:.2f}, unpaired {unpaired_se:.2f} percentage points")
check_paired_error(paired_se, result, lang=LANG)
```

Runs from the same seed draw the same validation split and the same order of batches, and
start from the same weights where their layers agree. Part of what makes one seed's run better
or worse than another's is therefore shared by the two runs of a pair, and subtracting them
cancels it: the paired error is smaller when that shared part is large. With only three pairs
it can also come out larger by chance; neither estimate is precise with three seeds.

</details>
"""),
("md", r"""
**Exercise 2** (coding). Chapter 1 trained a LeNet with sigmoid units without trouble. Why does
AlexNet with sigmoid units stay at chance level here? Take one batch of 67×67 images and a fresh
AlexNet with each activation, and measure after every activation layer how much its outputs
vary from image to image (the standard deviation over the batch, averaged over the units).
Relate what you see to chapter 3's measurement of the slope.
"""),
("md", r"""
<details><summary>Solution</summary>

```python
from alexnet_lib import load_fashion_mnist, set_seed

set_seed(0)
X, _ = next(iter(load_fashion_mnist(64, resize=67)[0]))
for activation in ("relu", "tanh", "sigmoid"):
    set_seed(0)
    net = AlexNet(image_size=67, activation=activation).eval()
    h, spreads = X, []
    for layer in [*net.conv, nn.Flatten(), *net.fc[:-1]]:
        h = layer(h)
        if type(layer).__name__.lower() == activation:
            spreads.append(h.flatten(1).std(dim=0).mean().item())
    print(f"{activation:<8}", " ".join(f"{s:.1e}" for s in spreads))
```

On the book's CPU (seed 0, a batch of 64 images) the ReLU network's spread stays between
about 0.1 and 0.2 through all seven activation layers, while the sigmoid network's falls by a
factor of roughly five per layer, to about 2e-7 at the last hidden layer: every image gives
nearly the same features, so the output layer has nothing to tell the classes apart by.
Chapter 3 measured the reason, a sigmoid's slope of at most 0.25. It shrinks variations on the
way forward just as it shrinks gradients on the way back, once per layer. LeNet has four
sigmoid layers, AlexNet seven, and 0.25 to the seventh power is about 6e-5.
Adam rescales each weight's step, which rescues small gradients, but the information is lost
in the forward pass, and 20 epochs on 5,000 images (about 800 steps) are not enough for the weights
to grow out of it.

</details>
"""),
("md", r"""
**Exercise 3** (thinking). LRN lowered the paper's top-1 error by 1.4 points on ImageNet. Give
two reasons why its effect on Fashion-MNIST at 67×67 can be different, and say what later
networks did instead.
"""),
("md", r"""
<details><summary>Solution</summary>

<!-- TODO(results) -->

</details>
"""),
("md", r"""
**Exercise 4** (coding, about a quarter of an hour on a CPU). Train a fourth seed of one variant
and see where it falls among the recorded three. `train_recipe` trains one run of an
experiment's recipe. What do you expect its test accuracy to be?
"""),
("md", r"""
<details><summary>Solution</summary>

```python
from alexnet_lib.experiments import train_recipe

label = "with LRN"
print("recorded:", [round(a, 4) for a in result.final(label)])
run = train_recipe(experiment.variants[label], seed=3)
print(f"seed 3: test accuracy {run['test_acc']:.4f}")
```

With three recorded runs, a fourth lands within about two sds of their mean most of the time.
If it lands far outside, look first for a difference in the setting: the recipe pins fp32, but
another version of PyTorch or a GPU adds numbers in another order, and the runs then differ
from the first step on.

</details>
"""),
("md", r"""
**Exercise 5** (coding). Adapt torchvision's pretrained AlexNet to Fashion-MNIST: make the first
convolution take one grey channel (hint: sum its weights over the three colour channels, so
that a grey image gives the response a grey colour image would), replace the last layer by one
with 10 outputs, and freeze everything but that new layer. The check works with random
weights too, so it runs offline.
"""),
("code", r"""
from alexnet_lib.book.exercises import check_transfer_model

net, _ = pretrained_alexnet(lang=LANG)
# change the first convolution and the last layer here, then freeze all but the last layer
check_transfer_model(net, lang=LANG)
"""),
("md", r"""
<details><summary>Solution</summary>

```python
net, _ = pretrained_alexnet(lang=LANG)
rgb = net.features[0]
grey = nn.Conv2d(1, rgb.out_channels, rgb.kernel_size, rgb.stride, rgb.padding)
with torch.no_grad():
    grey.weight.copy_(rgb.weight.sum(dim=1, keepdim=True))
    grey.bias.copy_(rgb.bias)
net.features[0] = grey
net.requires_grad_(False)
net.classifier[6] = nn.Linear(4096, 10)  # a new layer: trainable
check_transfer_model(net, lang=LANG)
```

To train it, resize Fashion-MNIST to 224×224 and normalise it as ImageNet's images were
(torchvision's weights expect inputs scaled by ImageNet's mean and sd), then train with an
optimiser over `net.classifier[6].parameters()` only. Since only 40,970 weights learn, each
step is cheap in memory, though the forward pass still runs the whole network.

</details>
"""),
("md", r"""
**Exercise 6** (thinking). Suppose one run's test accuracy varies from seed to seed with a
standard deviation of 0.3 percentage points, and you want a true difference of 0.3 points
between two variants to be two standard errors of their difference, with unpaired runs. How
many seeds per variant does that take?
"""),
("code", r"""
from alexnet_lib.book.exercises import check_seeds_needed

seeds = 0  # seeds per variant
check_seeds_needed(seeds, lang=LANG)
"""),
("md", r"""
<details><summary>Solution</summary>

The standard error of a difference of two means of $n$ runs each is $s\sqrt{2/n}$. Setting
$\delta = 2 s \sqrt{2/n}$ gives $n = 8 s^2/\delta^2 = 8$ with $s = \delta = 0.3$. That makes the
difference just reach the threshold when the estimate happens to equal the true difference; to
detect it most of the time, not half of it, takes about twice as many. Three seeds can only
show differences several times larger than one run's spread.

</details>
"""),
("md", r"""
**Exercise 7** (thinking). Design an ablation of weight decay for the Adam baseline: which
settings would you keep fixed, which values would you try, and what would you measure besides
the test accuracy?
"""),
("md", r"""
<details><summary>Solution</summary>

Keep everything of the baseline (data, split, epochs, batch size, schedule, seeds) and vary
only `weight_decay`, for example 0, 5e-5, 5e-4 and 5e-3. With Adam, `weight_decay` adds an L2
penalty to the gradient, which Adam then rescales per weight; `torch.optim.AdamW` decays the
weights directly, usually the better way to combine the two, so a second row could compare
them at the same value. Besides the test accuracy, record the training accuracy in evaluation
mode and the test loss (whether the decay regularises), and the weights' norm at the end. The
paper noted that weight decay lowered its *training* error too, so a decay that helps may not
show as regularisation at all.

</details>
"""),
]
