# The user image: JupyterLab with labdeck's server and lab extensions. Build from the
# repository's root, after `pip wheel --no-deps -w dist .`:
#
#   docker build -f hub_config/kubernetes/singleuser.Dockerfile -t registry.example.org/labdeck/singleuser:0.1.0 .
#
# For GPU runtimes, start from an image with CUDA libraries instead (e.g.
# quay.io/jupyter/pytorch-notebook:cuda12-latest); the NVIDIA device plugin provides the
# driver.
FROM quay.io/jupyter/base-notebook:python-3.12

COPY --chown=1000:100 dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/labdeck-*.whl \
 && rm -rf /tmp/dist
