"""Renders chat templates with Python's Jinja2 set up as transformers'
apply_chat_template sets it up (transformers/utils/chat_template_utils.py:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the
loopcontrols extension and a {% generation %} tag, its own tojson filter,
raise_exception and strftime_now), for comparison with @huggingface/jinja.

    cd chat/testdata && python3 pyjinja.py hfjs > hfjs-py.json
    cd chat/testdata && python3 pyjinja.py cases ../../../shared > cases-py.json
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOW = None  # set per suite


class Generation(Extension):
    """transformers' AssistantTracker without the tracking: renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_support"), [], [], body).set_lineno(lineno)

    def _support(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return NOW.strftime(fmt)


def compile_template(src):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(src)


def render(src, data):
    try:
        return {"output": compile_template(src).render(**data)}
    except jinja2.exceptions.TemplateError as e:
        return {"error": str(e)}
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        return {"error": "%s: %s" % (type(e).__name__, e)}


def token(t):
    return t if t is None or isinstance(t, str) else t.get("content")


def main():
    global NOW
    out = {}
    if sys.argv[1] == "hfjs":
        NOW = datetime.datetime(2025, 7, 10, 12, 0, 0)
        for name, c in json.load(open("hfjs-cases.json")).items():
            out[name] = render(c["chat_template"], c["data"])
    else:
        NOW = datetime.datetime(2024, 7, 26, 14, 5, 0)
        shared = sys.argv[2]
        cases = json.load(open("cases.json"))
        for name, spec in json.load(open("templates.json")).items():
            if spec["path"].startswith("shared:"):
                cfg = json.load(open(os.path.join(shared, spec["path"][len("shared:"):], "tokenizer_config.json")))
                src, bos, eos = cfg["chat_template"], token(cfg.get("bos_token")), token(cfg.get("eos_token"))
            else:
                src, bos, eos = open(spec["path"]).read(), spec["bos_token"], spec["eos_token"]
            renders = {}
            for cname, c in cases.items():
                if c.get("tools_only") and "tools" not in src:
                    continue
                for gen in (False, True):
                    data = dict(messages=c["messages"], add_generation_prompt=gen, **c.get("vars", {}))
                    if bos is not None:
                        data["bos_token"] = bos
                    if eos is not None:
                        data["eos_token"] = eos
                    if "tools" in c:
                        data["tools"] = c["tools"]
                    renders["%s/%s" % (cname, "gen" if gen else "nogen")] = render(src, data)
            out[name] = {"renders": renders}
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


main()
