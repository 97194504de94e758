"""One cache of trained teachers for all the labs of a kernel: a teacher is loaded (or
trained, the first time) once, by whichever lab asks first, and shared. Teachers come
from `wb.teachers.get` in eval mode with frozen weights and no lab changes them, so
sharing one changes nothing a lab computes; it saves the load and the memory of a copy
per lab."""
import functools

import workbench as wb


@functools.lru_cache(maxsize=None)
def teacher(name, device):
    """The trained teacher `name` on `device` (a torch.device), loaded once per kernel."""
    return wb.teachers.get(name, device=device)
