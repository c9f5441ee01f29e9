"""What every manager of the service stands on, handed over as one piece."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..accounts import UserAccounts
from ..supervisor import Supervisor
from .db import Database
from .ledger import Ledger
from .models import utcnow


@dataclass(frozen=True)
class Platform:
    db: Database
    ledger: Ledger
    supervisor: Supervisor
    accounts: UserAccounts
    log: logging.Logger
    # every manager reads the time here, so tests can move it
    now: Callable[[], datetime] = field(default=utcnow)
