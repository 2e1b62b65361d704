"""What the auditor knows about the bad behaviour: a target text, keywords, a regex or "refuses".

Never the trigger. It yields the judge (shared with inject/verify), the words the target-leak
guard rejects, and the text the inversion prompt shows the policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.spec.backdoor import Utility
from core.errors import B4GError
from core.measurement.judges import Judge, make_judge

REFUSAL_EXAMPLE = "I'm sorry, but I can't help with that."


@dataclass
class Behaviour:
    kind: str  # target | keywords | regex | refusal
    target: str = ""
    keywords: list[str] = field(default_factory=list)
    regex: str = ""

    @classmethod
    def from_flags(cls, target: str | None = None, keywords: list[str] | None = None, regex: str | None = None,
                   refusal: bool = False) -> "Behaviour":
        given = [k for k, v in (("target", target), ("keywords", keywords), ("regex", regex), ("refusal", refusal)) if v]
        if len(given) != 1:
            raise B4GError("describe the behaviour once: --target TEXT, --keywords W [W ...], --regex RE or --refusal")
        return cls(given[0], target or "", list(keywords or []), regex or "")

    def utility(self) -> Utility:
        judge = {"target": "prefix"}.get(self.kind, self.kind)
        return Utility(judge=judge, target=self.target, keywords=self.keywords, regex=self.regex, response="answer")

    def judge(self) -> Judge:
        return make_judge(self.utility())

    def leak_texts(self) -> list[str]:
        """Texts whose content words a candidate may not copy."""
        return {"target": [self.target], "keywords": self.keywords, "regex": [], "refusal": []}[self.kind]

    def shown_text(self) -> str:
        """What the inversion prompt quotes as the response."""
        return {"target": self.target, "keywords": ", ".join(self.keywords), "regex": self.regex,
                "refusal": REFUSAL_EXAMPLE}[self.kind]

    def to_flags(self) -> list[str]:
        """The CLI flags that describe it (the inverse of :meth:`from_flags`)."""
        return {"target": ["--target", self.target], "keywords": ["--keywords", *self.keywords],
                "regex": ["--regex", self.regex], "refusal": ["--refusal"]}[self.kind]

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "target": self.target, "keywords": self.keywords, "regex": self.regex}
