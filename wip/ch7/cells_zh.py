CELLS = [
("md", r"""
# AlexNet 的哪些想法真正起作用？

第 3 章到第 5 章把 AlexNet 的想法逐个拿出来，每个都放在便于展示它的设定里检验。本章反过来提问：训练整个网络，每次只改一个想法，测量每处改动带来的损失或收益。这就是*消融实验*（ablation study）。它回答本书留下的两个问题：架构里哪些细节重要（[第 2 章](02_architecture.ipynb)），以及 2012 年的训练方案是否胜过 Adam（[第 6 章](06_training.ipynb)）。本章最后介绍 AlexNet 之后的发展：它的哪些想法留了下来，其余的又被什么取代。
"""),
("md", r"""
## 概览

**你将学到**

- 什么是消融实验，为什么每次只改一处；
- 为什么实验设定决定了消融实验能说明什么，以及本章选的是什么设定；
- 怎样读多个随机种子上的均值 ± 标准差，为什么同一种子下两次运行之差（配对差值，paired difference）比两个均值更能说明问题；
- 用 67×67 像素的 5,000 张 Fashion-MNIST 图像训练 AlexNet 时，它的哪些想法起作用，以及这与论文在 ImageNet 上的测量结果相比如何；
- AlexNet 之后的发展（VGG、全局平均池化、批量归一化、ResNet），以及怎样从 AlexNet 在 ImageNet 上学到的权重出发，而不是从零开始训练。

**你需要**

- 第 3 章到第 6 章（ReLU、丢弃法、图像增广、训练）；均值和标准差；
- 不需要 GPU：本章读取已记录的运行结果。在 CPU 上把它们全部重新训练一遍要好几个小时（练习 4 训练其中一次）。
"""),
("md", r"""
本章通过 `alexnet_lib.experiments` 读取记录，用 matplotlib 作图；最后一节的预训练 AlexNet 来自 torchvision：
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
## 什么是消融实验？

消融实验去掉或替换系统的一个部分，测量结果有什么变化，其余一切保持不变：数据、迭代周期数、批量大小、随机种子。如果去掉丢弃法的网络比保留它的网络得分低，而其他方面都相同，那么这个差别就是丢弃法带来的——只差训练本身的随机性。

麻烦正出在这份随机性上。同一方案用两个种子各训练一次，初始权重不同，批量的顺序不同，最终准确率也不同。所以这里每个变体都用三个种子各训练一次，本章报告三个测试准确率的均值和标准差（sd）。两个变体之间的差别，只有相对这个离散程度足够大时才有意义。

2012 年的论文在 ImageNet 上也这样测量过自己的一些想法，每项只跑一次。局部响应归一化（local response normalisation，LRN）使 top-1 和 top-5 错误率分别降低 1.4 和 1.2 个百分点，重叠池化（overlapping pooling）分别降低 0.4 和 0.3 个百分点。论文说，没有丢弃法时网络“出现明显的过拟合”，没有图像增广时也“明显过拟合”。论文的图 1 在 CIFAR-10 上用一个小网络比较了 ReLU 和 tanh，[第 3 章](03_relu_vs_sigmoid.ipynb)重做了这个实验。
"""),
("md", r"""
## 选什么设定，为什么？

一个想法只有在有用武之地时才能显出价值。丢弃法和图像增广对付的是过拟合，所以网络必须有机会过拟合：训练图像要少（60,000 张里只取 5,000 张），遍历次数要多（20 个迭代周期）。激活函数和优化器的作用体现在训练走得多快，所以每个变体的训练步数相同。此外，27 次运行（9 个变体，各 3 个种子）必须能在 CPU 上跑完：67×67 像素时，一次运行在一个 CPU 核上约需一刻钟，224×224 时约需十倍时间。

小尺寸输入是有代价的，读结果时首先要记住这一点。67 像素时最后一张特征图只有 1×1，所以第一个全连接层，也就是丢弃法所保护的那一层，比 AlexNet 原本尺寸下小得多：
"""),
("code", r"""
def fc0_weights(image_size):
    # "meta" 张量只有形状没有值：不分配任何内存
    with torch.device("meta"):
        return AlexNet(image_size=image_size).fc[0].weight.numel()


for size in (67, 224):
    print(f"{size} 像素：fc.0 有 {fc0_weights(size) / 1e6:.1f} 百万个权重")
print(f"67 像素时少 {fc0_weights(224) / fc0_weights(67):.0f} 倍")
"""),
("md", r"""
池化和局部响应归一化所作用的特征图也很小。下面是消融实验比较的两种池化方式下，每个池化层之后的特征图尺寸：
"""),
("code", r"""
for pooling in ("overlapping", "non-overlapping"):
    x = torch.zeros(1, 1, 67, 67)
    sizes = []
    for layer in AlexNet(image_size=67, pooling=pooling).conv:
        x = layer(x)
        if isinstance(layer, nn.MaxPool2d):
            sizes.append(f"{x.shape[-1]}×{x.shape[-1]}")
    print(left(f"pooling=\"{pooling}\"：", 26) + "，".join(sizes))
"""),
("md", r"""
两种池化得到的特征图尺寸相同，所以这组比较只隔离出窗口是否重叠这一点，和论文的比较一样。这个设定能说明的是：一个想法是否有助于 AlexNet 从少量小图像中学习。它说明不了的，是那些需要 ImageNet 的 120 万张照片、1,000 个类别或 224 像素输入才会出现的效应；后面留了一列，给同一实验在 224 像素下的 GPU 运行结果。

基线是[第 6 章](06_training.ipynb)训练的 AlexNet，按这个设定调整：ReLU、丢弃概率 0.5、随机翻转和裁剪、重叠池化、不用局部响应归一化，优化器是学习率 0.001 的 Adam，采用预热加线性衰减；另外 2,000 张训练图像留作验证集。每个变体只改一处：
"""),
("code", r"""
experiment = EXPERIMENTS["ablation"]
names = {
    "baseline": "基线",
    "no dropout": "去掉丢弃法",
    "no augmentation": "去掉图像增广",
    "tanh": "tanh 代替 ReLU",
    "sigmoid": "sigmoid 代替 ReLU",
    "with LRN": "加局部响应归一化",
    "non-overlapping pooling": "不重叠池化",
    "2012 recipe (SGD)": "2012 年方案（SGD）",
    "with batch norm": "加批量归一化",
}
for label in experiment.variants:
    changes = experiment.changes(label)
    print(left(names[label], 26), ", ".join(f"{k}={v}" for k, v in changes.items()) or "-")
""", ["nbval-check-output"]),
("md", r"""
“2012 年方案”这一行同时改了优化器和学习率调度，因为两者本来就是配套的：动量 0.9、权重衰减 5e-4、学习率 0.01 的随机梯度下降（SGD），验证准确率不再上升时学习率除以 10。“加批量归一化”在每个卷积层之后加上批量归一化（batch normalisation），它在 2015 年取代了局部响应归一化（见最后一节）。
"""),
("md", r"""
## 每个变体的准确率是多少？

`run_experiment` 读取已记录的运行；只有记录里缺少的运行它才会训练，输出的第一行会说明它做了哪件事。接下来是实验设置和机器：
"""),
("code", r"""
result = run_experiment("ablation")
print(result.settings_line(LANG))
"""),
("md", r"""
下表给出每个变体在三个种子上的均值 ± 标准差：训练准确率（在评估模式下、用不加增广的 5,000 张训练图像测得）、测试准确率和测试损失，后两者都在全部 10,000 张测试图像上测得：
"""),
("code", r"""
print(result.table(names, lang=LANG, metrics=["train_acc_eval", "test_acc", "test_loss"]))
"""),
("md", r"""
<!-- TODO(results): read the table -->
"""),
("md", r"""
同一实验在 AlexNet 原本的输入尺寸下需要 GPU。这一列在本书的 GPU 检查生成了 `ablation-224` 记录时读取它，否则显示“尚未运行”：
"""),
("code", r"""
columns = {"67 像素，CPU": result, "224 像素，GPU": recorded_experiment("ablation-224")}
print(compare_columns(columns, list(experiment.variants), names, baseline="baseline",
                      lang=LANG))
"""),
("md", r"""
## 哪些差别大于噪声？

同一种子下的运行，数据顺序相同，验证集划分相同，层结构一致的部分初始权重也相同。逐个种子地把每个变体和基线比较，就消去了两者共有的那部分离散。对每个变体，三个配对差值给出一个均值和一个标准误（standard error）：sd/√3；均值离零超过约两个标准误，就不太可能只是偶然。只有三个种子时这条规则很粗糙：接近这个界限的差别只能算线索，不能算结论。
"""),
("code", r"""
print(left("变体", 26) + right("各种子", 22) + right("均值", 8) + right("± 标准误", 8))
for label in list(experiment.variants)[1:]:
    diffs = [100 * d for d in result.differences(label, "baseline")]
    mean, sd = mean_sd(diffs)
    se = sd / len(diffs) ** 0.5
    beyond = "  超过 2 个标准误" if abs(mean) > 2 * se else ""
    print(left(names[label], 26) + right(" ".join(f"{d:+.1f}" for d in diffs), 22)
          + right(f"{mean:+.1f}", 8) + right(f"{se:.1f}", 8) + beyond)
"""),
("md", r"""
把这些差值画成图：每根条是一个均值，误差线为 ± 2 个标准误，每个点是一个种子。远远超出坐标范围的变体，在边缘直接写出数值：
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
    if mean < low:  # 超出坐标范围：写出数值，不画条
        ax.text(low, row, f"← {mean:.0f}", va="center", ha="left")
        continue
    ax.barh(row, mean, xerr=2 * sd / len(diffs[label]) ** 0.5, color="tab:blue", alpha=0.6,
            capsize=3)
    ax.plot(diffs[label], [row] * len(diffs[label]), "k.", markersize=5)
ax.set_yticks(range(len(labels)), [names[label] for label in labels])
ax.set_xlim(low, high)
ax.axvline(0, color="black", linewidth=0.8)
ax.invert_yaxis()
ax.set_xlabel("测试准确率减去基线的测试准确率（百分点）")
ax.set_title("每处改动的效果（3 个种子，± 2 个标准误）")
ax.grid(axis="x", alpha=0.3)
plt.show()
"""),
("md", r"""
<!-- TODO(results): describe the figure -->
"""),
("md", r"""
## 各个变体是怎样学习的？

每个迭代周期之后的验证准确率能看出一个变体是一开始就落后、后来追上，还是后来掉队；阴影带是各种子之间的 ± 1 个标准差。sigmoid 一直停在随机猜测的水平，图中略去，以便看清其他变体：
"""),
("code", r"""
shown = [label for label in experiment.variants if label != "sigmoid"]
fig, ax = plt.subplots(figsize=(7, 4.2))
plot_experiment_curves(result, shown, names, ax=ax, lang=LANG)
ax.set_title("训练过程中的验证准确率")
ax.legend(fontsize=8, ncol=2)
plt.show()
"""),
("md", r"""
<!-- TODO(results): describe the curves -->
"""),
("md", r"""
## 每个想法在这里和在 ImageNet 上各起什么作用？

<!-- TODO(results): one paragraph per idea -->
"""),
("md", r"""
## AlexNet 之后发生了什么？

AlexNet 以 15.3% 的 top-5 错误率赢得 2012 年的 ImageNet 挑战赛，第二名是 26.2%。此后三年里，它的想法经过了筛选：有的保留下来，有的被取代。

**小卷积核，深堆叠（VGG，2014 年）。** Simonyan 和 Zisserman 用一叠 3×3 卷积代替 11×11 和 5×5 的卷积核：两层 3×3 卷积看到 5×5 的窗口，三层看到 7×7 的窗口，而权重更少，每层之间还多一个 ReLU。他们的 16 层和 19 层网络把 top-5 错误率降到 7% 左右。他们也试过局部响应归一化，发现没有帮助，就去掉了。

**不要几千万权重的头部（Network in Network，2013 年；GoogLeNet，2014 年）。** AlexNet 的参数大多在它的全连接头部（[第 1 章](01_lenet_to_alexnet.ipynb)）。Lin、Chen 和 Yan 把最后每张特征图平均成一个数，即*全局平均池化*（global average pooling），再用这些平均值分类。GoogLeNet 也这样做，之后只接一个线性层；它有 22 层，参数却比 AlexNet 少 12 倍，top-5 错误率为 6.7%。对本书 224 像素的 AlexNet 来说，这样的头部是这个样子：
"""),
("code", r"""
net = AlexNet()  # 224 像素，10 个类别
conv = sum(p.numel() for p in net.conv.parameters())
head = sum(p.numel() for p in net.fc.parameters())
pooled_head = sum(p.numel() for p in nn.Linear(256, 10).parameters())
print(left("卷积层：", 34) + f"{conv:>11,}")
print(left("全连接头部：", 34) + f"{head:>11,}")
print(left("全局平均池化 + 线性层：", 34) + f"{pooled_head:>11,}")
""", ["nbval-check-output"]),
("md", r"""
大头部没有了，丢弃法要保护的东西也就所剩无几：GoogLeNet 只在分类器前保留了一个丢弃层，ResNet 一个也没有。

**批量归一化（2015 年）。** Ioffe 和 Szegedy 在批量上对每个通道的激活值做归一化，再让网络用每个通道两个可学习的参数去缩放和平移。它让大得多的学习率也能稳定训练，并且取代了用固定常数在相邻通道之间做归一化的局部响应归一化。消融实验中“加批量归一化”这一行测量的就是它在这里的效果。<!-- TODO(results): one sentence with the number -->

**残差连接（ResNet，2015 年）。** 何恺明、张祥雨、任少卿和孙剑发现，简单地堆叠更多普通层，连*训练*误差都会变差。他们把每个模块的输入加到它的输出上，$y = x + F(x)$，这样一个模块只需学习对输入的改动，梯度也有一条穿过每个模块直通回去的路径。他们的网络超过 100 层也能训练；2015 年，一个集成模型的 top-5 错误率达到 3.6%。

**迁移学习（transfer learning）。** 在 ImageNet 上训练过的网络学到的特征（最先是边缘和纹理）对其他图像也有用。与其从零开始训练，不如从它的权重出发，把最后一层换成适合自己类别的层，只训练这一层，或者用很小的学习率微调（fine-tuning）所有层。torchvision 提供了在 ImageNet 上学到的 AlexNet 权重（它的 AlexNet 是 2014 年的单 GPU 版本，各卷积层分别有 64、192、384、256 和 256 个通道）。下面的单元格在能下载时加载这些权重，不能下载时（比如离线）会说明：
"""),
("code", r"""
pretrained, loaded = pretrained_alexnet(lang=LANG)
print(left("第一层：", 14) + str(pretrained.features[0]))
print(left("最后一层：", 14) + str(pretrained.classifier[6]))
"""),
("md", r"""
要用于 Fashion-MNIST，还有两处障碍：第一个卷积层要求三个颜色通道，最后一层输出 1,000 个 ImageNet 类别的得分。练习 5 会改掉这两处。
"""),
("md", r"""
## 小结

<!-- TODO(results): summary bullets -->
"""),
("md", r"""
## 练习

**练习 1**（编程）。表中的标准差描述的是每个变体自身。用三个配对差值（`result.differences`）计算“去掉丢弃法”这一行与基线之差的标准误，以百分点为单位。再用两个变体各自的标准差计算*不配对*的标准误：$\sqrt{s_1^2/3 + s_2^2/3}$。哪个更小？为什么配对能有帮助？
"""),
("code", r"""
from alexnet_lib.book.exercises import check_paired_error

paired_se = 0.0  # “去掉丢弃法”减基线的配对标准误，以百分点计
check_paired_error(paired_se, result, lang=LANG)
"""),
("md", r"""
<details><summary>参考答案</summary>

```python
diffs = [100 * d for d in result.differences("no dropout", "baseline")]
paired_se = mean_sd(diffs)[1] / len(diffs) ** 0.5
a, b = result.final("no dropout"), result.final("baseline")
(_, sa), (_, sb) = mean_sd(a), mean_sd(b)
unpaired_se = 100 * (sa**2 / len(a) + sb**2 / len(b)) ** 0.5
print(f"配对 {paired_se:.2f}，不配对 {unpaired_se:.2f} 个百分点")
check_paired_error(paired_se, result, lang=LANG)
```

同一种子下的运行，验证集划分相同，批量顺序相同，层结构一致的部分初始权重也相同。一个种子的运行之所以比另一个种子好或差，其中一部分原因是一对运行所共有的，两者相减就把它消掉了：这部分共有的成分越大，配对标准误越小。只有三对时，它也可能偶然地更大；三个种子下，两种估计都不精确。

</details>
"""),
("md", r"""
**练习 2**（编程）。第 1 章用 sigmoid 单元训练 LeNet 并没有遇到麻烦。为什么用 sigmoid 单元的 AlexNet 在这里停在随机猜测的水平？取一批 67×67 的图像，对每种激活函数各建一个新的 AlexNet，在每个激活层之后测量它的输出在不同图像之间变化多大（在批量上求标准差，再对所有单元求平均）。把你看到的结果和第 3 章对斜率的测量联系起来。
"""),
("md", r"""
<details><summary>参考答案</summary>

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

在本书的 CPU 上（种子 0，一批 64 张图像），ReLU 网络的这个离散程度在全部七个激活层中都保持在约 0.1 到 0.2 之间；sigmoid 网络的则每层缩小约五倍，到最后一个隐藏层只剩约 2e-7：每张图像得到的特征几乎相同，输出层没有任何依据来区分类别。原因第 3 章已经测过：sigmoid 的斜率至多为 0.25。它在前向传播时缩小输入的变化，正如在反向传播时缩小梯度一样，每层一次。LeNet 有四个 sigmoid 层，AlexNet 有七个，而 0.25 的七次方约为 6e-5。Adam 会重新缩放每个权重的步长，这能挽救很小的梯度，但信息在前向传播中就已经丢失了，而 5,000 张图像上的 20 个迭代周期（约 800 步）不足以让权重增长到摆脱这种状态。

</details>
"""),
("md", r"""
**练习 3**（思考）。局部响应归一化使论文在 ImageNet 上的 top-1 错误率降低了 1.4 个百分点。请给出两个理由，说明它在 67×67 的 Fashion-MNIST 上的效果为什么可能不同，并说说后来的网络用什么代替了它。
"""),
("md", r"""
<details><summary>参考答案</summary>

<!-- TODO(results) -->

</details>
"""),
("md", r"""
**练习 4**（编程，在 CPU 上约需一刻钟）。为某个变体训练第四个种子，看它落在已记录的三次运行中的什么位置。`train_recipe` 按实验的方案训练一次。你预计它的测试准确率是多少？
"""),
("md", r"""
<details><summary>参考答案</summary>

```python
from alexnet_lib.experiments import train_recipe

label = "with LRN"
print("已记录：", [round(a, 4) for a in result.final(label)])
run = train_recipe(experiment.variants[label], seed=3)
print(f"种子 3：测试准确率 {run['test_acc']:.4f}")
```

已有三次运行时，第四次多数情况下落在它们均值的约两个标准差以内。如果偏得很远，先找设定上的差别：方案固定使用 fp32，但换一个 PyTorch 版本或换到 GPU 上，数的相加顺序就不同，两次运行从第一步起就会有差别。

</details>
"""),
("md", r"""
**练习 5**（编程）。把 torchvision 的预训练 AlexNet 改造成适用于 Fashion-MNIST 的网络：让第一个卷积层只接受一个灰度通道（提示：把它的权重在三个颜色通道上求和，这样灰度图像得到的响应就和一张灰色的彩色图像一样），把最后一层换成 10 个输出的层，并冻结除这个新层以外的所有参数。权重是随机的时候这个检查也能用，所以离线也能运行。
"""),
("code", r"""
from alexnet_lib.book.exercises import check_transfer_model

net, _ = pretrained_alexnet(lang=LANG)
# 在这里改第一个卷积层和最后一层，然后冻结除最后一层以外的所有参数
check_transfer_model(net, lang=LANG)
"""),
("md", r"""
<details><summary>参考答案</summary>

```python
net, _ = pretrained_alexnet(lang=LANG)
rgb = net.features[0]
grey = nn.Conv2d(1, rgb.out_channels, rgb.kernel_size, rgb.stride, rgb.padding)
with torch.no_grad():
    grey.weight.copy_(rgb.weight.sum(dim=1, keepdim=True))
    grey.bias.copy_(rgb.bias)
net.features[0] = grey
net.requires_grad_(False)
net.classifier[6] = nn.Linear(4096, 10)  # 新建的层：可训练
check_transfer_model(net, lang=LANG)
```

要训练它，先把 Fashion-MNIST 缩放到 224×224，并像 ImageNet 图像那样做标准化（torchvision 的权重要求输入按 ImageNet 的均值和标准差缩放），然后只对 `net.classifier[6].parameters()` 创建优化器进行训练。由于只有 40,970 个权重在学习，每一步占用的内存很少，但前向传播仍然要经过整个网络。

</details>
"""),
("md", r"""
**练习 6**（思考）。假设一次运行的测试准确率在不同种子之间的标准差为 0.3 个百分点，你希望两个变体之间 0.3 个百分点的真实差别正好等于它们差值的两个标准误，运行不配对。每个变体需要多少个种子？
"""),
("code", r"""
from alexnet_lib.book.exercises import check_seeds_needed

seeds = 0  # 每个变体的种子数
check_seeds_needed(seeds, lang=LANG)
"""),
("md", r"""
<details><summary>参考答案</summary>

两个各含 $n$ 次运行的均值之差，其标准误为 $s\sqrt{2/n}$。令 $\delta = 2 s \sqrt{2/n}$，得 $n = 8 s^2/\delta^2$，代入 $s = \delta = 0.3$ 得 8。这只是估计值恰好等于真实差别时刚好达到界限；要在大多数情况下（而不是一半的情况下）测出这个差别，大约需要两倍的种子数。三个种子只能显示出比单次运行的离散程度大好几倍的差别。

</details>
"""),
("md", r"""
**练习 7**（思考）。为 Adam 基线设计一个关于权重衰减的消融实验：哪些设置保持不变？试哪些取值？除了测试准确率还要测量什么？
"""),
("md", r"""
<details><summary>参考答案</summary>

基线的一切（数据、验证集划分、迭代周期数、批量大小、学习率调度、种子）保持不变，只改 `weight_decay`，例如取 0、5e-5、5e-4 和 5e-3。对 Adam 来说，`weight_decay` 是在梯度上加一个 L2 惩罚项，随后 Adam 会按每个权重重新缩放它；`torch.optim.AdamW` 直接衰减权重，通常是把两者结合起来的更好方式，所以可以再加一行，在相同取值下比较两者。除了测试准确率，还要记录评估模式下的训练准确率和测试损失（看权重衰减是否起到正则化作用），以及训练结束时权重的范数。论文指出，权重衰减连*训练*误差也降低了，所以一个有帮助的权重衰减未必表现为正则化。

</details>
"""),
]
