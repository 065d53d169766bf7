"""Loading and checking the request corpus (tests/request_corpus*.json), shared by the tests
and the pass-rate report (``python tests/test_words_corpus.py``).

An entry: request, lang, class, and either the job it must give (intent, options, and where
relevant lossless, from_end, trim_end, track_rule, copy_only, needs_cloud, unknown (the
phrases not placed) and out_of_scope (those of them vax does not do); previous / duration / cloud_allowed are the context) or ``refuse``: it must not
run (an error, whose message contains ``error`` when given, or a refusal; with ``yes_refused``
not even with --yes).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from extractor.errors import UsageError
from extractor.jobspec import JobSpec

HERE = Path(__file__).parent


def load() -> list[dict]:
    entries = []
    for path in sorted(HERE.glob("request_corpus*.json")):
        entries.extend(json.loads(path.read_text(encoding="utf-8")))
    return entries


def check(entry: dict, interpret) -> str | None:
    """None when the interpreter gives what the entry expects, else what went wrong."""
    kwargs = {"previous": entry.get("previous"), "duration": entry.get("duration")}
    if entry.get("cloud_allowed"):
        kwargs["cloud_allowed"] = True
    try:
        got = interpret(entry["request"], **kwargs)
    except UsageError as exc:
        if not entry.get("refuse"):
            return f"error: {exc.one_line()}"
        wanted = entry.get("error")
        return None if not wanted or wanted.lower() in exc.one_line().lower() else f"other error: {exc.one_line()}"
    if entry.get("refuse"):
        if entry.get("error"):
            return f"ran instead of the error {entry['error']!r}: {got.understood}"
        if got.refusal() is None:
            return f"would run: {got.understood}"
        if entry.get("yes_refused") and got.refusal(yes=True) is None:
            return f"would run with --yes: {got.understood}"
        return None
    return _compare(entry, got)


def _compare(entry: dict, got) -> str | None:
    problems = []
    if got.intent != entry.get("intent", "extract"):
        problems.append(f"intent {got.intent}")
    if got.options != entry.get("options", {}):
        problems.append(f"options {got.options}")
    for key in ("lossless", "copy_only", "needs_cloud"):
        if bool(getattr(got, key)) != bool(entry.get(key, False)):
            problems.append(f"{key} {getattr(got, key)}")
    for key in ("from_end", "trim_end"):
        if getattr(got, key) != entry.get(key):
            problems.append(f"{key} {getattr(got, key)}")
    if list(got.unknown) != entry.get("unknown", []) + entry.get("out_of_scope", []):
        problems.append(f"unknown {list(got.unknown)}")
    if list(got.out_of_scope) != entry.get("out_of_scope", []):
        problems.append(f"out_of_scope {list(got.out_of_scope)}")
    rule = entry.get("track_rule")
    if (got.track_rule is None) != (rule is None) or rule and not _rule_matches(rule, got.track_rule):
        problems.append(f"track_rule {got.track_rule}")
    if not problems:
        JobSpec.build("talk.mp4", **{k: v for k, v in got.options.items() if k != "preset"})
    return "; ".join(problems) or None


def _rule_matches(expected: dict, rule) -> bool:
    for key, value in expected.items():
        have = getattr(rule, key)
        if isinstance(have, tuple):
            have = ",".join(have)
        if have != value:
            return False
    return True


def report(interpret) -> str:
    entries = load()
    by_class, by_lang, passed = Counter(), Counter(), Counter()
    for entry in entries:
        ok = check(entry, interpret) is None
        for counter, key in ((by_class, ("class", entry["class"])), (by_lang, ("lang", entry["lang"]))):
            counter[key] += 1
            passed[key] += ok
    lines = [f"{len(entries)} requests, {sum(1 for e in entries if e.get('refuse'))} to refuse"]
    for counter in (by_class, by_lang):
        lines += [f"  {k[0]} {k[1]}: {passed[k]}/{n}" for k, n in sorted(counter.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    from extractor.words import interpret as current

    print(report(current))
