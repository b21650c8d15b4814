"""The floor plan: no import circle among webapp's modules (README, "Architecture").

Each module's top-level imports of other webapp modules, with a subpackage's ``__init__`` counted
as imported by its modules (Python runs it first); the root package, which is the factory, is
left out (it is imported before anything else and imports downward).
"""
import ast

from tests.support import ROOT


def module_imports() -> dict[str, set[str]]:
    modules = {}
    for path in (ROOT / "webapp").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("webapp"):
                if node.module != "webapp":
                    deps.add(node.module)
                deps.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("webapp"))
        modules[name] = deps
    graph = {}
    for name, deps in modules.items():
        edges = {d for d in deps if d in modules and d != name}
        for dep in list(edges):  # importing a.b.c runs a.b's __init__ first
            parts = dep.split(".")
            for i in range(2, len(parts)):
                parent = ".".join(parts[:i])
                if parent in modules and parent != name and not name.startswith(parent + "."):
                    edges.add(parent)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle():
    cycle = find_cycle(module_imports())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_check_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_engine_imports_no_chat_code():
    """webapp/server is the engine: it may not reach up into the chat, its adapters or pages."""
    for name, deps in module_imports().items():
        if name.startswith("webapp.server"):
            upward = {d for d in deps if d.split(".")[1] in {"chat", "gateway", "api", "auth", "main"}}
            assert not upward, f"{name} imports {upward}"
