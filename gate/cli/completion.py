"""`gate completion bash|zsh|fish|powershell`: shell completion scripts generated from the argument parser itself.

Besides subcommands, options and their argparse choices, the scripts offer the shipped policy names
(for `--policy`, `--from` and `gate policy show|validate|test`) and the report formats (for `-f` and,
as `FORMAT=`, for `--report`); where a file may be meant too, files are offered beside the names.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from gate.cli import streams

SHELLS = ("bash", "zsh", "fish", "powershell")


def register(sub: Any) -> None:
    parser = sub.add_parser("completion", help="print a shell completion script",
                            description="Print a completion script. bash: `source <(gate completion bash)`; "
                            "zsh: `source <(gate completion zsh)`; fish: `gate completion fish | source`; PowerShell: "
                            "`gate completion powershell | Out-String | Invoke-Expression` (e.g. in $PROFILE).")
    parser.add_argument("shell", choices=SHELLS)
    parser.set_defaults(func=cmd_completion)


@dataclass
class _Command:
    path: tuple[str, ...]
    help: str
    subcommands: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)
    switches: set[str] = field(default_factory=set)
    """Options that take no value (`--no-cache`)."""
    words: list[str] = field(default_factory=list)
    """Choices of a positional argument (`gate completion bash`)."""
    short: list[str] = field(default_factory=list)
    """Short options (`-f`): completed with values, not offered as words."""
    files_too: set[str] = field(default_factory=set)
    """Options (and `""` for the positional) whose value may also be a file: `--policy strict` or `--policy p.yaml`."""


def _values() -> tuple[dict[str, list[str]], dict[tuple[str, ...], list[str]]]:
    """Values argparse does not know as choices: policy names and report formats, by option and by command."""
    from gate.policy.loader import shipped_policies  # noqa: PLC0415 - only `gate completion` needs them
    from gate.reports.registry import Format  # noqa: PLC0415

    policies, formats = sorted(shipped_policies()), [f.value for f in Format]
    by_option = {"--policy": policies, "--from": policies, "--format": formats, "-f": formats,
                 "--report": [*(f"{f}=" for f in formats), "template:"]}
    by_path: dict[tuple[str, ...], list[str]] = {("policy", "show"): policies, ("policy", "validate"): policies,
                                                 ("policy", "test"): policies}
    return by_option, by_path


FILES_TOO = frozenset({"--policy", ""})
"""A policy is a shipped name or a file."""


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = (), help: str = "") -> list[_Command]:
    """Every command and subcommand with its options and the values each option (or positional) takes."""
    found = _commands(parser, path, help)
    by_option, by_path = _values()
    for cmd in found:
        for option in [o for o in by_option if o in cmd.options or o in cmd.short]:
            cmd.choices.setdefault(option, by_option[option])
            cmd.files_too.update({option} & FILES_TOO)
        if cmd.path in by_path:
            cmd.words += by_path[cmd.path]
            cmd.files_too.add("")
    return found


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...], help: str) -> list[_Command]:
    here = _Command(path, help)
    found = [here]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, child in action.choices.items():
                here.subcommands.append(name)
                found += _commands(child, (*path, name), helps.get(name, ""))
        elif not action.option_strings:
            here.words += [str(c) for c in action.choices or ()]
        else:
            here.options += [o for o in action.option_strings if o.startswith("--")]
            here.short += [o for o in action.option_strings if not o.startswith("--")]
            if action.nargs == 0:
                here.switches.update(action.option_strings)
            if action.choices and action.option_strings:
                for option in action.option_strings:
                    here.choices[option] = [str(c) for c in action.choices]
    return found


def _bash(cmds: list[_Command]) -> str:
    subs = "\n".join(f'    "{" ".join(c.path)}") echo "{" ".join(c.subcommands + c.words)}" ;;'
                     for c in cmds if c.subcommands or c.words)
    opts = "\n".join(f'    "{" ".join(c.path)}") echo "{" ".join(c.options)}" ;;' for c in cmds)
    choices = "\n".join(f'    "{" ".join(c.path)}|{option}") words="{" ".join(values)}"; hit="$path|$prev" ;;'
                        for c in cmds for option, values in c.choices.items())
    files = "|".join(f'"{" ".join(c.path)}|{option}"' for c in cmds for option in sorted(c.files_too)) or '"-"'
    return f"""# gate completion for bash (and zsh through bashcompinit); generated by `gate completion`
_gate_subcommands() {{
  case "$1" in
{subs}
  esac
}}
_gate_options() {{
  case "$1" in
{opts}
  esac
}}
_gate_files_too() {{
  case "$1" in
    {files}) return 0 ;;
  esac
  return 1
}}
_gate() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}" path="" word i words=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${{COMP_WORDS[i]}}"
    case " $(_gate_subcommands "$path") " in
      *" $word "*) path="${{path:+$path }}$word" ;;
    esac
  done
  local hit=""
  case "$path|$prev" in
{choices}
  esac
  if [ -z "$words" ]; then
    if [[ "$cur" == -* ]]; then
      words="$(_gate_options "$path")"
    else
      words="$(_gate_subcommands "$path")"
      hit="$path|"
    fi
  fi
  COMPREPLY=()
  if [ -n "$words" ]; then
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
  fi
  if [ -z "$words" ] || _gate_files_too "$hit"; then
    mapfile -t -O "${{#COMPREPLY[@]}}" COMPREPLY < <(compgen -f -- "$cur")
  fi
  if [[ "${{COMPREPLY[0]-}}" == *= ]]; then
    compopt -o nospace 2>/dev/null
  fi
}}
complete -o filenames -F _gate gate
"""


def _zsh(cmds: list[_Command]) -> str:
    return "# gate completion for zsh\nautoload -U +X bashcompinit && bashcompinit\n" + _bash(cmds)


def _fish(cmds: list[_Command]) -> str:
    lines = ["# gate completion for fish; generated by `gate completion`", "complete -c gate -f"]
    for cmd in cmds:
        condition = f"__fish_seen_subcommand_from {cmd.path[-1]}" if cmd.path else "__fish_use_subcommand"
        for name in cmd.subcommands:
            child = next(c for c in cmds if c.path == (*cmd.path, name))
            description = child.help.replace("\\", "\\\\").replace("'", "\\'")
            lines.append(f"complete -c gate -n '{condition}' -a {name} -d '{description}'")
        if cmd.words:
            files = " -F" if "" in cmd.files_too else ""
            lines.append(f"complete -c gate -n '{condition}'{files} -a '{' '.join(cmd.words)}'")
        if not cmd.path:
            continue
        for option in cmd.options:
            values = cmd.choices.get(option)
            kind = "-rF -a" if option in cmd.files_too else "-xa"
            extra = f" {kind} '{' '.join(values)}'" if values else "" if option in cmd.switches else " -r -F"
            lines.append(f"complete -c gate -n '{condition}' -l {option[2:]}{extra}")
    return "\n".join(lines) + "\n"


def _ps(text: str) -> str:
    """A PowerShell single-quoted string."""
    return "'" + text.replace("'", "''") + "'"


def _powershell(cmds: list[_Command]) -> str:
    words = "\n".join(f"    {_ps(' '.join(c.path))} = @({', '.join(_ps(w) for w in c.subcommands + c.words)})"
                      for c in cmds if c.subcommands or c.words)
    options = "\n".join(f"    {_ps(' '.join(c.path))} = @({', '.join(_ps(o) for o in c.options)})" for c in cmds)
    values = "\n".join(f"    {_ps(' '.join(c.path) + '|' + o)} = @({', '.join(_ps(v) for v in vals)})"
                       for c in cmds for o, vals in c.choices.items())
    return f"""# gate completion for PowerShell; generated by `gate completion`
# Use: gate completion powershell | Out-String | Invoke-Expression   (add it to $PROFILE to keep it)
Register-ArgumentCompleter -Native -CommandName gate -ScriptBlock {{
  param($wordToComplete, $commandAst, $cursorPosition)
  $words = @{{
{words}
  }}
  $options = @{{
{options}
  }}
  $values = @{{
{values}
  }}
  $tokens = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object {{ $_.ToString() }})
  if ($wordToComplete -ne '' -and $tokens.Count -gt 0) {{ $tokens = @($tokens | Select-Object -SkipLast 1) }}
  $path = ''
  foreach ($token in $tokens) {{
    if ($words.ContainsKey($path) -and ($words[$path] -contains $token)) {{
      $path = ("$path $token").Trim()
    }}
  }}
  $prev = if ($tokens.Count -gt 0) {{ $tokens[-1] }} else {{ '' }}
  if ($values.ContainsKey("$path|$prev")) {{
    $candidates = $values["$path|$prev"]
  }} elseif ($wordToComplete.StartsWith('-')) {{
    $candidates = $options[$path]
  }} else {{
    $candidates = $words[$path]
  }}
  @($candidates) | Where-Object {{ $_ -and $_.StartsWith($wordToComplete) }} | ForEach-Object {{
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }}
}}
"""


def cmd_completion(args: argparse.Namespace) -> int:
    from gate.cli.main import build_parser  # noqa: PLC0415 - main imports this module

    cmds = commands(build_parser())
    script = {"bash": _bash, "zsh": _zsh, "fish": _fish, "powershell": _powershell}[args.shell](cmds)
    streams.document(script)
    return 0
