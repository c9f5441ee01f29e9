# The hub image: the chart's hub with labdeck installed (JupyterHub 6, KubeSpawner, the
# labdeck service). Build from the repository's root, after `pip wheel --no-deps -w dist .`:
#
#   docker build -f hub_config/kubernetes/hub.Dockerfile -t registry.example.org/labdeck/hub:0.1.0 .
FROM quay.io/jupyterhub/k8s-hub:4.4.0

USER root
COPY dist/ /tmp/dist/
RUN pip install --no-cache-dir "$(ls /tmp/dist/labdeck-*.whl)[kubernetes]" \
 && rm -rf /tmp/dist
# the chart runs the hub as 1000 (hub.containerSecurityContext)
USER 1000
