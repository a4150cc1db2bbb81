"""reftrace rules for the splamflow pipeline (run by nextflow_lint.sh; every finding is an error).

Modules follow nf-core conventions: one standard resource label (plus `process_gpu` for GPU-capable
processes), a `tag`, a conda environment and a tagged container; a GPU-capable process switches its
container on `task.accelerator`. Includes must resolve to files. Config directives that read
`params` must do so inside a closure, so that they are evaluated per task after all configs load.
"""

from pathlib import Path

from reftrace import ConfigFile, Module
from reftrace.directives import ContainerFormat
from reftrace.linting import LintError, LintResults, configrule, rule

RESOURCE_LABELS = {
    "process_single",
    "process_low",
    "process_medium",
    "process_high",
    "process_long",
    "process_high_memory",
}
EXTRA_LABELS = {"process_gpu", "error_ignore", "error_retry"}


def container_names(container) -> list[str]:
    if container.format == ContainerFormat.SIMPLE:
        return [container.simple_name]
    return [container.true_name, container.false_name]


@rule
def one_resource_label(module: Module, results: LintResults) -> None:
    for process in module.processes:
        labels = [label.value for label in process.labels]
        resource = [label for label in labels if label in RESOURCE_LABELS]
        unknown = [label for label in labels if label not in RESOURCE_LABELS | EXTRA_LABELS]
        if len(resource) != 1:
            results.errors.append(
                LintError(process.line, f"{process.name}: needs exactly one resource label, has {resource}")
            )
        if unknown:
            results.errors.append(LintError(process.line, f"{process.name}: unknown label(s) {unknown}"))


@rule
def tag_conda_container(module: Module, results: LintResults) -> None:
    for process in module.processes:
        if not process.tags:
            results.errors.append(LintError(process.line, f"{process.name}: no `tag` directive"))
        if len(process.condas) != 1:
            results.errors.append(LintError(process.line, f"{process.name}: needs one `conda` directive"))
        if len(process.containers) != 1:
            results.errors.append(LintError(process.line, f"{process.name}: needs one `container` directive"))
        for container in process.containers:
            for name in container_names(container):
                tag = name.rsplit(":", 1)[-1] if ":" in name.rsplit("/", 1)[-1] else ""
                if not name or " " in name or not tag or tag == "latest":
                    results.errors.append(
                        LintError(container.line, f"{process.name}: container {name!r} needs a fixed tag")
                    )


@rule
def gpu_switches_on_accelerator(module: Module, results: LintResults) -> None:
    for process in module.processes:
        if "process_gpu" not in [label.value for label in process.labels]:
            continue
        ternary = [c for c in process.containers if c.format == ContainerFormat.TERNARY]
        if not ternary or "task.accelerator" not in ternary[0].condition:
            message = f"{process.name}: process_gpu, but the container does not switch on task.accelerator"
            results.errors.append(LintError(process.line, message))


@rule
def includes_resolve(module: Module, results: LintResults) -> None:
    folder = Path(module.path).parent
    for include in module.includes:
        target = folder / include.from_module
        if not (target.with_suffix(".nf").is_file() or (target / "main.nf").is_file()):
            results.errors.append(LintError(include.line, f"include from {include.from_module!r}: no such file"))


def _uses_params_outside_closure(value) -> bool:
    return bool(value.params) and not value.in_closure


@configrule
def params_in_closures(config: ConfigFile, results: LintResults) -> None:
    scopes = list(config.process_scopes)
    for scope in scopes:
        for directive in [*scope.directives, *(d for named in scope.named_scopes for d in named.directives)]:
            if directive.value and _uses_params_outside_closure(directive.value):
                results.errors.append(
                    LintError(directive.line_number, f"{directive.name} reads params outside a closure")
                )
            for option in directive.options:
                exempt = directive.name == "publishDir" and option.name == "mode"
                if not exempt and _uses_params_outside_closure(option.value):
                    message = f"{directive.name}.{option.name} reads params outside a closure"
                    results.errors.append(LintError(option.line_number, message))
