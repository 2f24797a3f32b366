"""A run started outside the UI (`cdp run`), created as a launch from the UI creates it.

A Dagster run records where its job came from: the code location of workspace.yaml
(``remote_job_origin``; the UI lists a job's runs, draws the Overview timeline and
re-executes by it) and the Python pointer that rebuilds the job (``job_code_origin``).
``execute_in_process`` records neither, so its runs showed under Runs but not under
Jobs › nightly, nor on the timeline. Here the definitions are loaded the way the code
server of workspace.yaml loads them, the run is created with both origins, and it is
executed synchronously in this process, so `cdp run` keeps its progress lines.

Dagster has no public call for "create a run as the UI would, execute it here": this
module uses internals of the pinned dagster version (see pyproject.toml), in one place.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

DEFINITIONS_MODULE = "cdp_pipeline.definitions"
DEFAULT_LOCATION_NAME = "cdp_pipeline"


def code_location_origin(workspace_file: Path | None = None):
    """The origin the UI gives the pipeline's code location.

    Read from workspace.yaml (the file `make ui` and the daemon start from; ./workspace.yaml
    by default), so a renamed location follows; without the file, the location it declares.
    """
    from dagster._core.workspace.load import location_origin_from_module_name, location_origins_from_yaml_paths

    workspace_file = Path(workspace_file or Path.cwd() / "workspace.yaml")
    if workspace_file.exists():
        for origin in location_origins_from_yaml_paths([str(workspace_file)]):
            target = getattr(origin, "loadable_target_origin", None)
            if target is not None and target.module_name == DEFINITIONS_MODULE:
                return origin
    return location_origin_from_module_name(DEFINITIONS_MODULE, None, str(Path.cwd()), DEFAULT_LOCATION_NAME)


@dataclass(frozen=True)
class LoadedJob:
    """A job loaded as the code server loads it, with what a run of it must record."""

    recon_job: Any  # ReconstructableJob: rebuilds the job in any process
    job_def: Any  # JobDefinition
    repository_def: Any  # RepositoryDefinition: the whole code location (asset graph, ...)
    remote_job_origin: Any  # RemoteJobOrigin: location + repository + job, as in the UI


def load_job(job_name: str, workspace_file: Path | None = None) -> LoadedJob:
    from dagster._core.origin import get_python_environment_entry_point
    from dagster._core.remote_origin import RemoteRepositoryOrigin
    from dagster._grpc.server import LoadedRepositories

    origin = code_location_origin(workspace_file)
    target = origin.loadable_target_origin
    repositories = LoadedRepositories(
        target,
        container_image=None,
        entry_point=get_python_environment_entry_point(target.executable_path or sys.executable),
        container_context=None,
        code_location_name=origin.location_name,
    )
    ((repo_name, recon_repo),) = repositories.reconstructables_by_name.items()
    repository_def = repositories.definitions_by_name[repo_name]
    return LoadedJob(
        recon_job=recon_repo.get_reconstructable_job(job_name),
        job_def=repository_def.get_job(job_name),
        repository_def=repository_def,
        remote_job_origin=RemoteRepositoryOrigin(origin, repo_name).get_job_origin(job_name),
    )


def execute_job_run(loaded: LoadedJob, instance, *, tags: Mapping[str, str], run_config: Mapping[str, Any]):
    """Create the run with both origins and execute it here, synchronously; the result says
    whether it succeeded and gives its run id."""
    from dagster._core.definitions.reconstruct import ReconstructableJob
    from dagster._core.execution.api import execute_run

    # ReconstructableJob keeps the last definition it built (lru_cache per process, keyed by the
    # pointer, which is the same for every `cdp run`). A second run in one process (cli.main
    # called twice: tests, scripts) would otherwise execute the first run's definitions, whose
    # build database resource is the first warehouse's; rebuilt here, they follow the settings
    # in force, as loaded.job_def does.
    ReconstructableJob.get_definition.cache_clear()
    ReconstructableJob.get_repository_definition.cache_clear()
    run = instance.create_run_for_job(
        job_def=loaded.job_def,
        run_config=run_config,
        tags=tags,
        job_code_origin=loaded.recon_job.get_python_origin(),
        remote_job_origin=loaded.remote_job_origin,
    )
    return execute_run(loaded.recon_job, run, instance, raise_on_error=False)
