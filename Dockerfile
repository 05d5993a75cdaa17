# Airflow image for the Sales Connect task sync (used by every service in docker-compose.yaml).
# The base tag must name the same Airflow version as requirements.txt (tests/deploy checks it).
FROM apache/airflow:3.3.2-python3.11

# The official image installs Python packages as the `airflow` user into its own site-packages.
USER airflow
WORKDIR /opt/sales-connect

# Dependencies first, in their own layer: they change far less often than the code.
COPY --chown=airflow:0 requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt

# The library (include/: sales_connect, sf_emulator, task_sync, airflow_stack) as a regular,
# non-editable install: containers need no source tree mounted to import it.
COPY --chown=airflow:0 pyproject.toml ./
COPY --chown=airflow:0 include ./include
RUN pip install --no-cache-dir --no-deps . && rm -rf build

# DAGs and plugins are baked in so the image runs alone; docker-compose.yaml
# bind-mounts ./dags and ./plugins over them for local development.
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins

WORKDIR /opt/airflow
