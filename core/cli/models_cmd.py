"""``b4g models info|chat|prepare``: load a model, measure it, talk to it."""

from __future__ import annotations

import argparse
from typing import Any

from core.cli.output import emit_json, emit_pairs
from core.units import human_bytes
from core.cli.progress import RichReporter
from core.errors import B4GError
from core.jobs import Job, JobContext, execute
from core.models.choice import ModelChoice
from core.models.ref import DEVICES, DTYPES, QUANTIZATIONS, LoadOptions, ModelRef
from core.models.templates import CHOICES as TEMPLATE_CHOICES


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """The model-selection flags every model-using command shares."""
    g = p.add_argument_group("model")
    g.add_argument("--model", default="embedded", help="'embedded' (default), a Hugging Face folder or a .gguf file")
    g.add_argument("--adapter", action="append", default=[], metavar="DIR", help="LoRA adapter folder (repeatable)")
    g.add_argument("--quantization", choices=QUANTIZATIONS, default="none", help="bitsandbytes quantization")
    g.add_argument("--device", choices=DEVICES, default="auto")
    g.add_argument("--dtype", choices=DTYPES, default="auto")
    g.add_argument("--template", choices=TEMPLATE_CHOICES, default="auto",
                   help="prompt template: the model's own chat template (auto) or a pinned one for base models")
    g.add_argument("--no-double-quant", action="store_true", help="4-bit: do not quantize the quantization constants")
    g.add_argument("--compute-dtype", choices=DTYPES, default="auto", help="4-bit: dtype of the matmuls")
    g.add_argument("--trust-remote-code", action="store_true", help="run the model folder's own Python code (off by default)")
    g.add_argument("--allow-pickle", action="store_true", help="accept pickle weights (*.bin, *.pt); they can run code")
    g.add_argument("--session", metavar="ID|PATH", help="record the run in this audit session (default for jobs: the most recently used one, "
                        "or a new one when there is none; models commands record only when given)")


def model_from_args(args: argparse.Namespace) -> tuple[ModelRef, LoadOptions]:
    ref = ModelRef.parse(args.model, args.adapter)
    opts = LoadOptions(device=args.device, dtype=args.dtype, quantization=args.quantization,
                       double_quant=not args.no_double_quant, compute_dtype=args.compute_dtype,
                       trust_remote_code=args.trust_remote_code, allow_pickle=args.allow_pickle,
                       template=args.template)
    return ref, opts.validate()


def choice_from_args(args: argparse.Namespace) -> ModelChoice:
    """The model choice the window's Models page makes, from the same flags."""
    return ModelChoice(*model_from_args(args))


def _session(args: argparse.Namespace):  # noqa: ANN202
    if not args.session:
        return None
    from core.store.catalog import open_session

    return open_session(args.session)


def _run(kind: str, fn: Any, config: dict[str, Any], args: argparse.Namespace, store: Any = None) -> Any:
    """Run a job through the shared protocol, with a progress bar and the optional session."""
    with RichReporter(kind, quiet=args.json) as reporter:
        outcome = execute(Job(kind, fn, config), JobContext([reporter]), store)
    if outcome.status != "finished":
        raise B4GError(outcome.error or outcome.status)
    return outcome.result


def cmd_info(args: argparse.Namespace) -> int:
    ref, opts = model_from_args(args)
    store = _session(args)

    def job(ctx: JobContext) -> dict[str, Any]:
        from core.models.loader import load_model

        loaded = load_model(ref, opts, ctx)
        info = loaded.to_json()
        if store is not None:
            from core.models.record import record_model

            info["model_record_id"] = record_model(store, loaded)
        return info

    info = _run("load-model", job, {"model": ref.to_json(), "options": opts.to_json()}, args, store)
    if args.json:
        emit_json(info)
    else:
        emit_pairs(info["model"], {
            "parameters": f"{info['parameters'] / 1e6:.1f} M", "device": info["device"], "dtype": info["dtype"],
            "quantization": info["quantization"], "estimated memory": human_bytes(info["estimated_bytes"]),
            "measured footprint": human_bytes(info["footprint_bytes"]), "load time": f"{info['load_seconds']:.2f} s"})
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from core.models.chat import GenerationOptions

    ref, opts = model_from_args(args)
    gen = GenerationOptions(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                            top_p=args.top_p, seed=args.seed, system=args.system, batch_size=args.batch_size)
    if not args.prompt:
        raise B4GError("no prompt: pass -p/--prompt TEXT (repeatable)")

    def job(ctx: JobContext) -> dict[str, Any]:
        from core.models.chat import chat
        from core.models.loader import load_model

        loaded = load_model(ref, opts, ctx)
        answers = chat(loaded, args.prompt, gen, ctx)
        return {"model": loaded.ref.describe(), "answers": [
            {"prompt": p, "answer": a} for p, a in zip(args.prompt, answers)]}

    result = _run("chat", job, {"model": ref.to_json(), "options": opts.to_json(), "generation": gen.to_json(),
                                "prompts": args.prompt}, args, _session(args))
    if args.json:
        emit_json(result)
    else:
        for row in result["answers"]:
            print(row["answer"] if len(result["answers"]) == 1 else f"> {row['prompt']}\n{row['answer']}\n")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    """Convert the embedded (or a given) GGUF to its cached safetensors copy."""
    from core.models.gguf_cache import embedded_gguf, ensure_converted, is_converted
    from pathlib import Path

    gguf = embedded_gguf() if args.model == "embedded" else Path(args.model)
    fresh = not is_converted(gguf) if gguf.exists() else True
    with RichReporter("prepare", quiet=args.json) as reporter:
        folder = ensure_converted(gguf, JobContext([reporter]))
    result = {"gguf": str(gguf), "folder": str(folder), "converted_now": fresh}
    emit_json(result) if args.json else print(f"{'converted' if fresh else 'already prepared'}: {folder}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="load, measure and chat with a model")
    msub = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    info = msub.add_parser("info", help="load a model and report parameters, memory and load time")
    add_model_arguments(info)
    info.set_defaults(func=cmd_info)
    chat = msub.add_parser("chat", help="answer prompts with the model's chat template")
    add_model_arguments(chat)
    chat.add_argument("-p", "--prompt", action="append", default=[], help="a user message (repeatable: batched)")
    chat.add_argument("--system", default="You are a helpful assistant.", help="system message")
    chat.add_argument("--max-new-tokens", type=int, default=128)
    chat.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    chat.add_argument("--top-p", type=float, default=1.0)
    chat.add_argument("--seed", type=int)
    chat.add_argument("--batch-size", type=int, default=8)
    chat.set_defaults(func=cmd_chat)
    prep = msub.add_parser("prepare", help="convert the embedded GGUF to its cached safetensors copy")
    prep.add_argument("--model", default="embedded", help="'embedded' or a .gguf file")
    prep.set_defaults(func=cmd_prepare)
