"""Rules for what to do (intents), how (flags: exact cuts, offsets, overwrite, salvage, where to run),
what vax does not do (out of scope), and phrases that carry no choice."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from extractor.presets import PRESETS
from extractor.words import vocab
from extractor.words.patterns import B, E, c

if TYPE_CHECKING:  # pragma: no cover
    from extractor.words.reader import Reader


def _set(slot: str, value) -> Callable:
    def handler(r: Reader, m: re.Match):
        r.set(slot, value, r.phrase(m))
    return handler


def _preset_by_name(r: Reader, m: re.Match):
    r.set("preset", m.group("name") or m.group("name2"), r.phrase(m))


def _intent(name: str) -> Callable:
    def handler(r: Reader, m: re.Match):
        r.set("intent", name, r.phrase(m))
        if name == "upload":
            r.set("cloud", True, r.phrase(m))
    return handler


def _out_of_scope(r: Reader, m: re.Match):
    r.out_of_scope.append(r.phrase(m))


def _silent(r: Reader, m: re.Match):
    return None


# Splitting and silence: before SCOPE, whose "remove ... silences" is for pauses inside the audio.
_SPLIT = r"(?:split|cut|divide|break|chop|separate)(?:\s+(?:it|this|them|the\s+(?:audio|file|book|audiobook|podcast|episode|recording|video|lecture|talk|m4b)))?(?:\s+up)?"
_PRESET_NAMES = "|".join(sorted(PRESETS, key=len, reverse=True))
PIECES = [
    # A preset by its own name, as the web page's picker and `vax presets` spell it.
    (c(rf"{B}(?:(?:with|using|use)\s+)?(?:the\s+)?(?P<name>{_PRESET_NAMES})\s+preset{E}|"
       rf"{B}preset\s*:?\s*(?P<name2>{_PRESET_NAMES}){E}"), _preset_by_name),
    (c(rf"{B}{_SPLIT}\s+(?:in|into|by|at|per|on|along)\s+(?:the\s+|its\s+)?chapters?{E}|"
       rf"{B}(?:one|a)\s+(?:file|track)\s+(?:per|for\s+each|for\s+every)\s+chapter{E}|"
       rf"{B}(?:each|every)\s+chapter\s+(?:as|in|into)\s+(?:a\s+|its\s+own\s+)?(?:separate\s+)?(?:file|track)s?{E}|"
       rf"按章节(?:分割|拆分|切分)|每(?:个)?章节(?:一个文件)?"), _set("split", "chapters")),
    (c(rf"{B}{_SPLIT}\s+(?:at|on|by|where\s+there\s+are)\s+(?:the\s+)?(?:silences?|pauses?|gaps|quiet\s+parts?){E}|"
       rf"按静音(?:分割|拆分|切分)"), _set("split", "silence")),
    (c(rf"{B}(?:trim|strip|cut|remove|drop|skip|lose)(?:\s+off)?\s+(?:the\s+)?(?:leading\s+and\s+trailing\s+)?"
       rf"(?:silences?|dead\s+air|quiet)(?:\s+(?:at|from|on)\s+(?:the\s+|both\s+)?(?:start\s+and\s+(?:the\s+)?end|"
       rf"beginning\s+and\s+(?:the\s+)?end|ends|both\s+ends|edges))?{E}|{B}trim\s+(?:the\s+)?silence{E}|"
       rf"去掉首尾(?:的)?静音|去除首尾(?:的)?静音"), _set("trim_silence", True)),
]

_SITES = (r"youtube|soundcloud|spotify|(?:google\s+)?drive|dropbox|icloud|onedrive|facebook|instagram|tiktok|"
          r"twitter|vimeo|bandcamp|the\s+internet|the\s+web|my\s+website|s3|ftp")
_EFFECTS = r"reverb|echo|delay\s+effect|chorus|flanger|distortion|bass\s+boost|compression|compressor|effects?"

SCOPE = [
    (c(rf"{B}(?:upload|post|publish|share|send|put)\s+(?:it\s+|them\s+|this\s+)?(?:to|on|onto)\s+(?:my\s+)?(?:{_SITES})"
       rf"(?:\s+(?:channel|account))?{E}"), _out_of_scope),
    (c(rf"{B}(?:add|adding|put|apply|with)\s+(?:some\s+|a\s+(?:little\s+)?(?:bit\s+of\s+)?|more\s+|an?\s+)?"
       rf"(?:{_EFFECTS}|music|background\s+music|fade[\s-]?(?:in|out)?|intro\s+music|watermark|subtitles?|"
       rf"captions?){E}|{B}(?:{_EFFECTS}){E}"), _out_of_scope),
    (c(rf"{B}(?:remove|removing|reduce|reducing|clean(?:\s+up)?|get\s+rid\s+of|filter(?:\s+out)?|cut\s+out|kill|"
       rf"eliminate|strip)\s+(?:all\s+)?(?:the\s+)?(?:background\s+|annoying\s+)?(?:noise|hiss|hum|buzz|wind|"
       rf"vocals?|voices?|singing|music|silences?|breaths?|breathing|ums?|clicks?|pops?|ads?|adverts?|"
       rf"advertisements?|commercials?|sponsor\s*(?:segments?|ships?)?|static|echo|reverb){E}"), _out_of_scope),
    (c(rf"{B}(?:de-?nois\w*|noise[\s-]?(?:reduction|removal|free|cancell?ation|suppression)|"
       rf"(?:background|ambient)\s+noise){E}"), _out_of_scope),
    (c(rf"{B}(?:translat\w*(?:\s+(?:it|this|them|the\s+audio))?(?:\s+(?:in|into|to)\s+[a-z]+)?|dub\s+it|subtitl\w*|caption\w*|lyrics|karaoke\s+version|instrumental\s+version|"
       rf"(?:separate|split|isolate)\s+(?:the\s+)?(?:vocals?|voices?|instruments?|stems|drums|bass)|stems){E}"),
     _out_of_scope),
    (c(rf"{B}(?:transcri(?:be|bing|ption\s+of|pt)|speech\s+to\s+text\s+it|write\s+down\s+what)(?:\s+(?:it|this|them))?"
       rf"{E}"), _out_of_scope),
    (c(rf"{B}(?:speed\s+(?:it\s+)?up|slow\s+(?:it\s+)?down|faster|slower|(?:change|shift|raise|lower)\s+(?:the\s+)?"
       rf"(?:pitch|tempo|speed|key)|pitch[\s-]?shift\w*|auto-?tune|time[\s-]?stretch\w*|reverse\s+it|"
       rf"play\s+(?:it\s+)?backwards){E}"), _out_of_scope),
    (c(rf"{B}(?:merge|combine|concatenate|join|splice|mix)\s+(?:it\s+|them\s+|all\s+|the\s+|these\s+)*"
       rf"(?:files|tracks|videos|together|with\s+\S+|into\s+one)?{E}"), _out_of_scope),
    (c(rf"{B}(?:equali[sz]\w*|eq|boost\s+the\s+(?:bass|treble|voice)|more\s+bass|less\s+bass|"
       rf"(?:remove|mute|strip|delete)\s+the\s+audio\s+(?:from|of)\s+the\s+video|mute\s+(?:it|the\s+video)|"
       rf"(?:crop|resize|rotate|compress)\s+(?:the\s+)?video|burn\s+(?:the\s+)?subtitles|"
       rf"(?:play|listen\s+to)\s+it|preview\s+it|keep\s+(?:the\s+|only\s+the\s+)?(?:video|picture)(?:\s+only)?){E}"),
     _out_of_scope),
]

FLAGS = [
    (c(rf"{B}(?:sample|frame)[\s-]accurate(?:ly)?(?:\s+(?:cut|cuts|trim|trimming))?{E}|"
       rf"{B}(?:exact|precise)(?:ly)?(?:\s+(?:cut|cuts|trim|trimming|timing))?{E}"), _set("exact", True)),
    (c(rf"{B}(?:drop|remove|ignore|without|no|strip)\s+(?:the\s+)?(?:start\s+)?(?:offset|delay|leading\s+silence)"
       rf"{E}|{B}start\s+at\s+the\s+first\s+(?:audio\s+)?sample{E}"), _set("keep_offset", False)),
    (c(rf"{B}(?:keep\s+(?:the\s+)?(?:start\s+)?(?:offset|sync|delay)|in\s+sync\s+with\s+the\s+video|in\s+sync){E}"),
     _set("keep_offset", True)),
    (c(rf"{B}(?:(?:overwrite|overwriting|replace)(?:\s+(?:the\s+|any\s+)?(?:existing|old)(?:\s+(?:files?|ones?|"
       rf"outputs?))?)?|replace\s+it){E}"), _set("overwrite", True)),
    (c(rf"{B}(?:salvage|recover|rescue|even\s+if\s+(?:it'?s\s+|it\s+is\s+)?(?:damaged|broken|corrupt(?:ed)?|"
       rf"truncated)|damaged|broken|corrupt(?:ed)?|truncated){E}"), _set("salvage", True)),
    (c(rf"{B}(?:allow|permit)\s+(?:the\s+)?cloud(?:\s+(?:fallback|backend|if\s+needed))?{E}|"
       rf"{B}(?:use\s+the\s+)?cloud\s+(?:if\s+(?:needed|necessary)|fallback){E}"), _set("cloud_fallback", True)),
    (c(rf"{B}(?:locally|offline|on\s+this\s+(?:machine|computer)|local(?:\s+only)?){E}"), _set("backend", "local")),
    (c(rf"{B}(?:in|on|via|using|use|with)\s+the\s+cloud{E}|{B}(?:nemovideo|cloud\s+backend|remotely){E}"),
     _set("cloud", True)),
    (c(rf"{B}(?:start\s+over|start\s+again|from\s+scratch|reset(?:\s+it)?|forget\s+(?:that|the\s+last\s+one|"
       rf"everything)){E}"), _set("start_over", True)),
]

INTENTS = [
    (c(rf"{B}(?:show|list|display|what(?:'s|\s+is|\s+are)?|which)\s+(?:me\s+)?(?:the\s+|all\s+)?(?:the\s+)?"
       rf"(?:audio\s+)?(?:tracks|streams|languages)(?:\s+(?:are\s+)?(?:there|in\s+it))?{E}|"
       rf"{B}what'?s\s+in(?:side)?(?:\s+it)?{E}"), _intent("probe")),
]

LATE_INTENTS = [
    (c(rf"{B}(?:do\s+)?(?:the\s+)?same\s+(?:thing\s+)?(?:for|to|with)\s+(?:all|every|each|the\s+(?:rest|others))"
       rf"(?:\s+(?:of\s+them|the\s+(?:others|files|videos)|files|videos|others|one))?{E}|"
       rf"{B}apply\s+(?:it\s+|this\s+|that\s+)?to\s+(?:all|every|each)(?:\s+(?:of\s+them|files?|the\s+files|videos?))?"
       rf"{E}|{B}(?:for|to)\s+all\s+(?:of\s+)?(?:them|the\s+(?:files|videos)|files|videos|the\s+others){E}"),
     _set("apply_all", True)),
    (c(rf"{B}(?:status|probe|info(?:rmation)?|details){E}"), _intent("probe")),
    (c(rf"{B}(?:how\s+many\s+)?(?:credits?|balance)(?:\s+(?:balance|left|remaining|do\s+i\s+have|i\s+have))*{E}"),
     _intent("credits")),
    (c(rf"{B}upload(?:ing|ed)?(?:\s+(?:it|them))?(?:\s+to\s+the\s+cloud)?{E}"), _intent("upload")),
    (c(rf"{B}(?:the\s+)?same\s+as\s+(?:before|last\s+time){E}|{B}(?:like|as)\s+before{E}|{B}keep\s+it{E}|"
       rf"{B}(?:audio|sound)\s+only{E}|{B}(?:as\s+)?(?:a\s+)?separate\s+(?:audio\s+)?file{E}"), _silent),
    (c(rf"[{re.escape(vocab.CJK_PUNCTUATION)}]+"), _silent),
]
