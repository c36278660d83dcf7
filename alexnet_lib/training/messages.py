"""What `train` prints, in English and in Chinese."""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

import torch

from ..errors import check_choice

LANGUAGES = ("en", "zh")

COMMAND_LINE: ContextVar[bool] = ContextVar("command_line", default=False)
"""Set by the command line, whose users fix things with options, not with arguments."""


def check_lang(lang: str) -> None:
    check_choice("lang", lang, LANGUAGES)


def epoch_label(epoch: int, lang: str) -> str:
    return f"epoch {epoch}" if lang == "en" else f"第 {epoch} 个迭代周期"


def start(settings: dict[str, Any], lang: str) -> str:
    s = settings
    decay = f", weight decay {s['weight_decay']:g}" if s.get("weight_decay") else ""
    if lang == "zh":
        schedule = {"constant": "", "warmup-linear": "（预热加线性衰减）",
                    "plateau": "（验证准确率停滞时除以 10）"}[s["lr_schedule"]]
        text = (
            f"在 {s['device']} 上训练 {s['model']}（{s['precision']}）：{s['num_epochs']} 个迭代"
            f"周期，批量大小 {s['batch_size']}，训练图像 {s['train_examples']:,} 张"
            + (f"、验证图像 {s['val_examples']:,} 张" if s.get("val_examples") else "")
            + (f"、测试图像 {s['test_examples']:,} 张" if s.get("test_examples") else "")
            + f"，尺寸 {s['image_shape']}，{s['optimizer']} "
            f"学习率 {s['lr']:g}{schedule}{decay.replace(', weight decay', '，权重衰减')}"
            + (f"，已编译（{s['compile']}）" if s["compile"] != "off" else "")
            + ("［快速模式］" if s["quick_mode"] else "")
            + (f"［{s['processes']} 个进程］" if s["processes"] > 1 else "")
        )
        return text
    schedule = f" ({s['lr_schedule']})" if s["lr_schedule"] != "constant" else ""
    return (
        f"Training {s['model']} on {s['device']} ({s['precision']}): {s['num_epochs']} epochs, "
        f"batch size {s['batch_size']}, {s['train_examples']:,} training"
        + (f" / {s['val_examples']:,} validation" if s.get("val_examples") else "")
        + (f" / {s['test_examples']:,} test" if s.get("test_examples") else "")
        + f" images of {s['image_shape']}, {s['optimizer']} "
        f"lr={s['lr']:g}{schedule}{decay}"
        + (f", compiled ({s['compile']})" if s["compile"] != "off" else "")
        + (" [quick mode]" if s["quick_mode"] else "")
        + (f" [{s['processes']} processes]" if s["processes"] > 1 else "")
    )


def epoch(record, num_epochs: int, lang: str) -> str:
    r = record
    if lang == "zh":
        val = f"，验证准确率 {r.val_acc:.3f}" if r.val_acc is not None else ""
        test = f"，测试准确率 {r.test_acc:.3f}" if r.test_acc is not None else ""
        return (f"第 {r.epoch}/{num_epochs} 个迭代周期：损失 {r.train_loss:.4f}，训练准确率 "
                f"{r.train_acc:.3f}{val}{test}，{r.seconds:.1f} 秒，"
                f"每秒 {r.images_per_sec:,.0f} 张图像")
    val = f", val acc {r.val_acc:.3f}" if r.val_acc is not None else ""
    test = f", test acc {r.test_acc:.3f}" if r.test_acc is not None else ""
    return (f"epoch {r.epoch}/{num_epochs}: loss {r.train_loss:.4f}, train acc "
            f"{r.train_acc:.3f}{val}{test}, {r.seconds:.1f} s, "
            f"{r.images_per_sec:,.0f} images/s")


def done(history, lang: str) -> str:
    return ("完成：" if lang == "zh" else "Done: ") + history.summary(lang)


def resuming(checkpoint: os.PathLike, position, lang: str) -> str:
    if lang == "zh":
        return (f"从 {checkpoint} 接着训练：第 {position.epoch + 1} 个迭代周期，"
                f"第 {position.batch} 个批量之后。")
    return f"Resuming from {checkpoint}: epoch {position.epoch + 1}, batch {position.batch}."


def run_complete(checkpoint: os.PathLike, finished: int, lang: str) -> str:
    if lang == "zh":
        return (f"{checkpoint} 中的训练已经完成：{finished} 个迭代周期，不少于要求的数目；"
                "没有需要继续训练的。")
    return (f"{checkpoint} holds a complete run: {finished} epoch(s), as many as asked for or "
            "more; nothing is left to train.")


def no_checkpoint_yet(checkpoint: os.PathLike, lang: str) -> str:
    if lang == "zh":
        return f"{checkpoint} 还没有检查点：从头开始训练。"
    return f"No checkpoint at {checkpoint} yet: starting from scratch."


def interrupted(position, finished: int, saved: str, lang: str) -> str:
    if lang == "zh":
        text = (f"在第 {position.epoch + 1} 个迭代周期、第 {position.batch} 个批量处中断："
                f"返回已完成的 {finished} 个迭代周期，net 保留当前的权重。")
        if saved:
            text += (f"已保存 {saved}；加上 --resume 再运行同一条命令即可从那里继续。"
                     if COMMAND_LINE.get() else
                     f"已保存 {saved}；用 resume=True 再次调用 train 即可从那里继续。")
        return text
    text = (f"Interrupted at epoch {position.epoch + 1}, batch {position.batch}: returning the "
            f"{finished} finished epoch(s); net keeps its weights.")
    if saved:
        text += (f" Saved {saved}; run the same command with --resume to continue from there."
                 if COMMAND_LINE.get() else
                 f" Saved {saved}; train(..., resume=True) continues from there.")
    return text


def non_finite(value: float, epoch_number: int, batch: int, lr: float, lang: str) -> str:
    if COMMAND_LINE.get():  # the command line says itself what it kept
        if lang == "zh":
            return (f"第 {epoch_number} 个迭代周期第 {batch} 个批量的损失变成了 {value}，"
                    f"训练已停止。请降低学习率重新开始，例如 --lr {lr / 10:g} --overwrite。")
        return (f"The loss became {value} at epoch {epoch_number}, batch {batch}; training "
                f"stopped. Start again with a lower learning rate, e.g. --lr {lr / 10:g} "
                "--overwrite.")
    if lang == "zh":
        return (f"第 {epoch_number} 个迭代周期第 {batch} 个批量的损失变成了 {value}。训练已停止；"
                f"net 已恢复为最后一次损失有限时的权重。请降低学习率，例如 lr={lr / 10:g}，"
                "并使用新的优化器。")
    return (f"The loss became {value} at epoch {epoch_number}, batch {batch}. Training stopped; "
            f"net holds the last weights that gave a finite loss. Try a lower learning rate, "
            f"e.g. lr={lr / 10:g}, with a fresh optimizer.")


def out_of_memory(device: torch.device, batch_size: int, epoch_number: int, batch: int,
                  lang: str) -> str:
    half = max(1, batch_size // 2)
    if COMMAND_LINE.get():
        if lang == "zh":
            return (f"{device} 在批量大小 {batch_size} 时内存不足（第 {epoch_number} 个迭代周期，"
                    f"第 {batch} 个批量）。请用更小的批量大小，例如 --batch-size {half}，"
                    "或者更小的 --image-size。")
        return (f"{device} ran out of memory at batch size {batch_size} (epoch {epoch_number}, "
                f"batch {batch}). Use a smaller batch size, e.g. --batch-size {half}, or a "
                "smaller --image-size.")
    if lang == "zh":
        return (f"{device} 在批量大小 {batch_size} 时内存不足（第 {epoch_number} 个迭代周期，"
                f"第 {batch} 个批量）。请用更小的批量大小加载数据，例如 "
                f"load_fashion_mnist({half}, ...)，或者使用更小的图像尺寸。net 保留最后一个完成的"
                "训练步之后的权重。")
    return (f"{device} ran out of memory at batch size {batch_size} (epoch {epoch_number}, "
            f"batch {batch}). Load the data with a smaller batch size, e.g. "
            f"load_fashion_mnist({half}, ...), or use a smaller image size. net keeps the "
            "weights of the last finished step.")
