#!/usr/bin/env python3
"""Write a large, valid runbook in the runsheet dialect (docs/FORMAT.md) for benchmarks.

The output is deterministic: the same arguments always give the same bytes. With the
defaults it has 50,000 steps and is about 10 MB; `runsheet check` finds no errors in it.

    scripts/gen-synthetic-runbook.py > /tmp/synthetic.md
    scripts/gen-synthetic-runbook.py --steps 5000 -o /tmp/small.md
"""

import argparse
import sys

REGIONS = ["eu-west-1", "us-east-1", "ap-south-1"]
VERBS = ["Drain", "Upgrade", "Restart", "Verify", "Rebalance", "Snapshot", "Warm", "Reindex"]
OBJECTS = ["worker node", "cache shard", "queue partition", "database replica", "ingress pod"]
DURATIONS = ["30s", "2m", "5m", "10m", "1h 30m", "45 seconds", "3 minutes"]
SECTION_NAMES = ["Prepare", "Migrate", "Roll out", "Verify", "Clean up"]

FRONT_MATTER = """\
---
runsheet: 1
id: synthetic-fleet-upgrade
owner: team-benchmarks
class: normal
service: fleet
environment: production
params:
  version:
    pattern: '[0-9]+\\.[0-9]+\\.[0-9]+'
    prompt: Release version to roll out
  region:
    choices: [eu-west-1, us-east-1, ap-south-1]
    default: eu-west-1
  cluster: main-eu
  batch_size:
    type: int
    default: 10
roles:
  sre: Site reliability on call
  release-manager: Owns the release train
  dba: Database administrator
---

# Synthetic fleet upgrade

A generated runbook for benchmarks: many sections of task items with estimates, commands,
gates and failure branches. Rollback is at the bottom.

"""

ROLLBACK = """\
## Rollback

- [ ] Switch traffic back to the previous version
  - Id: rollback-switch
  - Estimate: 5m
  - Retries: 3 every 10s

  ```bash run
  ./scripts/traffic switch --cluster {{cluster}} --region {{region}} --to previous
  ```
- [ ] Confirm the previous version serves traffic
  - Id: rollback-confirm
  - Poll: every 10s for 5m

  ```bash run
  curl -fsS https://fleet.example.com/healthz
  ```
- [ ] Open an incident ticket and link this run
  - Id: rollback-incident
"""


def step(number: int, steps_per_section: int) -> str:
    """One task item; `number` is 1-based and unique, so every derived id is unique."""
    verb = VERBS[number % len(VERBS)]
    thing = OBJECTS[(number // len(VERBS)) % len(OBJECTS)]
    lines = [f"- [ ] {verb} {thing} {number:06d} in {{{{cluster}}}}"]
    position = number % steps_per_section
    if position == 0:
        # The last step of each section is a gate.
        lines += [
            "  - Sign-off: 1 of sre or dba",
            "  - Sign-off: release-manager",
            "  - Separation: starter",
            "  - Timeout: 4h",
        ]
        return "\n".join(lines) + "\n"
    lines.append(f"  - Estimate: {DURATIONS[number % len(DURATIONS)]}")
    if number % 7 == 0:
        lines.append("  - On failure: [Rollback](#rollback)")
    if number % 11 == 0:
        lines.append(f"  - When: region is {REGIONS[number % len(REGIONS)]}")
    if number % 13 == 0:
        lines.append("  - Role: sre")
    if number % 3 == 0:
        lines.append("  - Timeout: 15m")
        if number % 9 == 0:
            lines.append("  - Expect output: /(ok|done)/")
        lines += [
            "",
            "  ```bash run",
            f"  ./scripts/{verb.lower()} --cluster {{{{cluster}}}} --region {{{{region}}}} "
            f"--target {number:06d} --version {{{{version}}}} --batch {{{{batch_size}}}}",
            "  ```",
        ]
    elif number % 3 == 1:
        lines += [
            "",
            "  ```text",
            f"  Expected: {thing} {number:06d} reports ready within two minutes.",
            "  If it does not, ask in the fleet-upgrades channel before going on.",
            "  ```",
        ]
    else:
        # A plain `run` fence uses the front-matter shell.
        lines += [
            "",
            "  ```run",
            f"  ./scripts/check --target {number:06d} --cluster {{{{cluster}}}}",
            "  ```",
        ]
    return "\n".join(lines) + "\n"


def generate(steps: int, steps_per_section: int, out) -> None:
    out.write(FRONT_MATTER)
    written = 0
    section = 0
    while written < steps:
        section += 1
        name = SECTION_NAMES[section % len(SECTION_NAMES)]
        out.write(f"## Wave {section:04d}: {name}\n\n")
        out.write("* On failure: [Rollback](#rollback)\n\n")
        out.write(f"Wave {section} of the fleet upgrade. Work through the items in order.\n\n")
        count = min(steps_per_section, steps - written)
        for _ in range(count):
            written += 1
            out.write(step(written, steps_per_section))
        out.write("\n")
    out.write(ROLLBACK)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000,
                        help="steps outside the Rollback section (default 50000)")
    parser.add_argument("--steps-per-section", type=int, default=100,
                        help="steps per section; the last one of each is a gate (default 100)")
    parser.add_argument("-o", "--output", help="output file (default: standard output)")
    args = parser.parse_args()
    if args.steps < 1 or args.steps_per_section < 1:
        parser.error("--steps and --steps-per-section must be positive")
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="\n") as out:
            generate(args.steps, args.steps_per_section, out)
    else:
        generate(args.steps, args.steps_per_section, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
