"""`--attest FILE --sign-key KEY`: sign the decision (in-toto VSA) and its evidence (vulns) as DSSE envelopes.

Runs first among the actions: it records the verdict itself. The key is loaded in `prepare`, before
anything is fetched, so a missing key file or a KMS key gate may not use stops the run at once. A run
with no verdict signs nothing; a signature that fails after the verdict is a FAILED record (exit 3),
and the file is replaced only once every envelope is signed and checked. A file at the path exists
after the run only if this run signed it: an earlier one is removed in `prepare` (or, when it is also
the run's `--baseline`, once the verdict is known), since the next step would take it for this decision.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from gate.actions.interface import Outcome
from gate.attestation.keys import KeyRef, load_signer
from gate.errors import ActionError, GateError
from gate.files import atomic_write
from gate.outcome import ActionRecord, ActionStatus

if TYPE_CHECKING:
    from securesystemslib.signer import Signer

NAME = "attest"
OPERATION = "sign"


class AttestAction:
    """Writes one JSON Lines file of signed statements about the verdict."""

    name = NAME
    revocable = False
    """A signed decision records the verdict, which a later failed action does not change: it stays as written."""

    def __init__(self, path: Path, key: KeyRef, *, region: str | None = None, profile: str | None = None,
                 keep: bool = False) -> None:
        self.path = path
        self.key = key
        self._region = region
        self._profile = profile
        self._keep = keep
        """The file is also the run's --baseline: it is read while judging, so it stays until the verdict."""
        self._signer: Signer | None = None
        self._removed = False

    def prepare(self) -> None:
        if not self._keep:
            self._forget()
        self._signer = load_signer(self.key, region=self._region, profile=self._profile)

    def _forget(self) -> None:
        """Remove an earlier file where the attestation is written: through a symlink, its target (the link
        stays, as `atomic_output` writes through it); a FIFO or a device such as /dev/stdout holds nothing."""
        target = Path(os.path.realpath(self.path))
        try:
            if stat.S_ISREG(target.stat().st_mode):
                target.unlink()
                self._removed = True
        except FileNotFoundError:
            return
        except OSError as e:
            raise ActionError(f"--attest {self.path}: cannot remove the earlier attestation ({e.strerror or e})",
                              hint="a file left there would be taken for this run's decision; make it writable") from e

    def _unsigned(self, status: ActionStatus, detail: str) -> tuple[ActionRecord, ...]:
        """The record of a run that signed nothing, once no earlier file is left to be taken for its decision."""
        try:
            self._forget()
        except ActionError as e:
            return self._record(ActionStatus.FAILED, f"{detail}; {e.diagnostics()}")
        return self._record(status, detail + ("; the earlier file at this path was removed" if self._removed else ""))

    def _record(self, status: ActionStatus, detail: str) -> tuple[ActionRecord, ...]:
        return (ActionRecord(action=NAME, target=str(self.path), operation=OPERATION, status=status, detail=detail),)

    def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]:
        evaluation = outcome.evaluation
        if outcome.error is not None or evaluation is None:
            return self._unsigned(ActionStatus.SKIPPED, "gate could not decide, so there is no decision to sign; "
                                  "nothing was written")
        if self._signer is None:
            return self._unsigned(ActionStatus.FAILED, "the signing key was not loaded")
        from securesystemslib.exceptions import Error as SigningError  # noqa: PLC0415

        from gate.attestation.envelopes import Unsigned, sign  # noqa: PLC0415
        from gate.attestation.statements import NoSubject, statements  # noqa: PLC0415

        passed = outcome.passed
        try:
            lines = [sign(statement, self._signer) for statement in statements(evaluation, passed)]
            atomic_write(self.path, b"".join(line + b"\n" for line in lines))
        except NoSubject as e:
            return self._unsigned(ActionStatus.FAILED, f"{e}; judge a build version (or its snapshot)")
        except GateError as e:
            return self._unsigned(ActionStatus.FAILED, f"not signed, nothing written: {e.diagnostics()}")
        except (Unsigned, SigningError, ValueError) as e:
            return self._unsigned(ActionStatus.FAILED, f"not signed, nothing written: {e}")
        except OSError as e:
            return self._unsigned(ActionStatus.FAILED, f"signed but not written: {e.strerror or e}")
        result = "PASSED" if passed else "FAILED"
        return self._record(ActionStatus.DONE, f"{len(lines)} envelopes, verificationResult {result}, "
                            f"key {self.key.text}")
