"""A Python function as a training entrypoint: its code, the globals it uses and its arguments
become a small project (`main.py`, `function.pickle`, `requirements.txt`) that calls it in the
training pod and stores its return value with the model (`fair-result.pickle`).

With cloudpickle installed the function is pickled by value (closures, lambdas and classes of
the notebook included) and cloudpickle goes into the image's requirements too. Without it, the
function's source is sent with the sources of the notebook's functions and classes it calls,
`import` lines for the modules it uses, and the other globals it reads pickled by value."""
from __future__ import annotations

import functools
import importlib.metadata
import inspect
import io
import os
import pickle
import pickletools
import sys
import textwrap
import types
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from .errors import FairError

RESULT_FILE = "fair-result.pickle"
PICKLE_FILE = "function.pickle"
PROTOCOL = 4

_RUN_RESULT = f'''
_fair_result = {{call}}
_fair_model_dir = os.environ.get("FAIR_MODEL_DIR")
if _fair_model_dir:
    os.makedirs(_fair_model_dir, exist_ok=True)
    with open(os.path.join(_fair_model_dir, "{RESULT_FILE}"), "wb") as _fair_file:
        pickle.dump(_fair_result, _fair_file, protocol={PROTOCOL})
'''


def write_project(function: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any], directory: str,
                  requirements: Iterable[str] = (), use_cloudpickle: Optional[bool] = None) -> List[str]:
    """Writes the project into `directory` and returns its requirements (pinned to the versions
    installed here, so the pod runs what the notebook ran)."""
    if not callable(function):
        raise FairError(f"{function!r} is not a function")
    if use_cloudpickle is None:
        use_cloudpickle = _has_cloudpickle()
    if use_cloudpickle:
        import cloudpickle  # type: ignore[import-not-found, import-untyped, unused-ignore]
        payload = cloudpickle.dumps((function, tuple(args), dict(kwargs)), protocol=PROTOCOL)
        script = ("# What fair.train() sent: a function pickled with cloudpickle, with its arguments.\n"
                  "import os, pickle\nimport cloudpickle  # noqa: F401 (the pickle needs it)\n\n"
                  f"with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), \"{PICKLE_FILE}\"), \"rb\") as _fair_file:\n"
                  "    _fair_function, _fair_args, _fair_kwargs = pickle.load(_fair_file)\n"
                  + _RUN_RESULT.format(call="_fair_function(*_fair_args, **_fair_kwargs)"))
        modules = _pickled_modules(payload) | {"cloudpickle"}
    else:
        captured = capture(function)
        try:
            payload = pickle.dumps({"args": tuple(args), "kwargs": dict(kwargs), "globals": captured.values}, protocol=PROTOCOL)
        except Exception as error:
            raise FairError(f"the arguments of {function.__name__} or the globals it reads cannot be pickled ({error}); "
                            "install cloudpickle, or pass them as plain data") from error
        script = (f"# What fair.train() sent: {function.__name__} and what it uses, called with the arguments in {PICKLE_FILE}.\n"
                  "import os, pickle\n" + "".join(f"{line}\n" for line in captured.imports) + "\n"
                  + "\n\n".join(captured.sources) + "\n\n"
                  f"with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), \"{PICKLE_FILE}\"), \"rb\") as _fair_file:\n"
                  "    _fair_call = pickle.load(_fair_file)\n"
                  "globals().update(_fair_call[\"globals\"])\n"
                  + _RUN_RESULT.format(call=f"{function.__name__}(*_fair_call[\"args\"], **_fair_call[\"kwargs\"])"))
        modules = captured.modules | _pickled_modules(payload)
    with open(os.path.join(directory, "main.py"), "w", encoding="utf-8") as f:
        f.write(script)
    with open(os.path.join(directory, PICKLE_FILE), "wb") as fb:
        fb.write(payload)
    pinned = sorted(set(pinned_requirements(modules)) | set(requirements))
    if pinned:
        with open(os.path.join(directory, "requirements.txt"), "w", encoding="utf-8") as f:
            f.write("".join(f"{line}\n" for line in pinned))
    return pinned


class Captured:
    """A function's source and what it needs: import lines, sources of the notebook's functions
    and classes it calls (in dependency order), and other globals' values."""

    def __init__(self) -> None:
        self.imports: List[str] = []
        self.sources: List[str] = []
        self.values: Dict[str, Any] = {}
        self.modules: Set[str] = set()


def capture(function: Callable[..., Any]) -> Captured:
    captured = Captured()
    _capture(function, captured, set())
    return captured


def _capture(target: Any, captured: Captured, seen: Set[int]) -> None:
    if id(target) in seen:
        return
    seen.add(id(target))
    name = getattr(target, "__name__", repr(target))
    if isinstance(target, types.FunctionType):
        if target.__name__ == "<lambda>":
            raise FairError("a lambda's source cannot be sent on its own: define it with def, or install cloudpickle")
        if target.__closure__:
            free = ", ".join(target.__code__.co_freevars)
            raise FairError(f"{name} uses variables of the function around it ({free}): make them arguments, or install cloudpickle")
        namespace = target.__globals__
        names = _global_names(target.__code__)
    else:
        namespace = vars(sys.modules.get(target.__module__, types.ModuleType("_")))
        names = set()
        for member in vars(target).values():
            function = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if isinstance(function, types.FunctionType):
                names |= _global_names(function.__code__)
    for used in sorted(names):
        if used not in namespace or used in captured.values:
            continue
        value = namespace[used]
        if isinstance(value, types.ModuleType):
            line = f"import {value.__name__}" if value.__name__ == used else f"import {value.__name__} as {used}"
            if line not in captured.imports:
                captured.imports.append(line)
            captured.modules.add(value.__name__.split(".")[0])
        elif isinstance(value, (types.FunctionType, type)) and _defined_here(value):
            _capture(value, captured, seen)
        elif isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)) and getattr(value, "__module__", None):
            module = value.__module__
            line = f"from {module} import {value.__qualname__}" + ("" if value.__qualname__ == used else f" as {used}")
            if line not in captured.imports:
                captured.imports.append(line)
            captured.modules.add(module.split(".")[0])
        else:
            captured.values[used] = value
    try:
        source = textwrap.dedent(inspect.getsource(target))
    except (OSError, TypeError) as error:
        raise FairError(f"the source of {name} cannot be found ({error}); install cloudpickle to send it by value") from error
    captured.sources.append(source.rstrip() + "\n")


def _defined_here(value: Any) -> bool:
    """A function or class of the notebook, or of a module of the user's own (neither the standard
    library's nor an installed distribution's): the pod has only what is sent, so its source goes."""
    name = str(getattr(value, "__module__", "") or "")
    if name == "__main__":
        return True
    top = name.split(".")[0]
    if top in _standard_modules():
        return False
    module = sys.modules.get(name)
    if module is None or getattr(module, "__file__", None) is None:
        return True
    return not _distributions().get(top)


@functools.lru_cache(maxsize=1)
def _standard_modules() -> Set[str]:
    return set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names) | {"__main__", "builtins", "fair"}


@functools.lru_cache(maxsize=1)
def _distributions() -> Mapping[str, List[str]]:
    # Reads every installed distribution's metadata: once per process, not once per global.
    try:
        return importlib.metadata.packages_distributions()
    except AttributeError:  # Python before 3.10
        return {}


def _global_names(code: types.CodeType) -> Set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def _pickled_modules(payload: bytes) -> Set[str]:
    """Top-level modules a pickle refers to (numpy for an array argument)."""
    modules: Set[str] = set()
    strings: List[str] = []
    for opcode, argument, _ in pickletools.genops(io.BytesIO(payload)):
        if opcode.name == "GLOBAL" and isinstance(argument, str):
            modules.add(argument.split(" ")[0].split(".")[0])
        elif opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE") and isinstance(argument, str):
            strings.append(argument)
        elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
            modules.add(strings[-2].split(".")[0])
    return modules


def pinned_requirements(modules: Iterable[str]) -> List[str]:
    """`distribution==version` for each module that is neither the standard library's nor fair's."""
    standard = _standard_modules()
    distributions = _distributions()
    pinned: List[str] = []
    for module in sorted(set(modules) - standard):
        for distribution in distributions.get(module, []):
            try:
                pinned.append(f"{distribution}=={importlib.metadata.version(distribution)}")
            except importlib.metadata.PackageNotFoundError:
                continue
    return sorted(set(pinned))


def _has_cloudpickle() -> bool:
    try:
        import cloudpickle  # noqa: F401
    except ImportError:
        return False
    return True


def load_result(directory: str) -> Tuple[bool, Any]:
    """The function's return value from a pulled model directory: (found, value)."""
    path = os.path.join(directory, RESULT_FILE)
    if not os.path.exists(path):
        return False, None
    with open(path, "rb") as f:
        return True, pickle.load(f)
