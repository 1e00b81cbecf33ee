#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Parse reStructuredText files with docutils and report every warning and
error (a malformed table, a broken title underline, an unknown role), one
line each as FILE:LINE: message.  The kernel's documentation is built by
Sphinx, whose own constructs (toctree, :doc:) plain docutils does not know;
they are accepted here without being checked.

Usage: rst_check.py FILE...   (exit status 1 if any file has a problem)
"""

import sys

import docutils.core
import docutils.utils
from docutils.parsers.rst import Directive, directives, roles


class SphinxOnly(Directive):
    """A Sphinx directive: its content is not docutils' to check."""
    has_content = True
    optional_arguments = 99
    final_argument_whitespace = True
    option_spec = None

    def run(self):
        return []


def sphinx_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    return [docutils.nodes.literal(rawtext, text)], []


directives.register_directive("toctree", SphinxOnly)
for role in ("doc", "ref"):
    roles.register_local_role(role, sphinx_role)

problems = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    settings = {"report_level": 5, "halt_level": 5, "warning_stream": False}
    doc = docutils.core.publish_doctree(text, source_path=path, settings_overrides=settings)
    # The messages in the tree, and those that docutils keeps beside it (a
    # table it could not parse ends up in parse_messages).
    found = list(doc.traverse(docutils.nodes.system_message))
    found += list(doc.parse_messages) + list(doc.transform_messages)
    messages = []
    for msg in found:
        if msg["level"] < docutils.utils.Reporter.WARNING_LEVEL:
            continue
        line = msg.astext().splitlines()[0]
        if not line.startswith(path):
            line = f"{path}:{msg.get('line', '?')}: {line}"
        if line not in messages:
            messages.append(line)
    for line in messages:
        print(line)
    problems += len(messages)
sys.exit(1 if problems else 0)
