# Sourced by .ci/setup.sh: installs PyTorch before the lab, so pip does not pick the multi-GB CUDA build on a
# machine that cannot use it. With an NVIDIA driver: the default index (CUDA build). Without one: PyTorch's CPU
# wheel index, falling back to the default index when that cannot be reached. An installed torch is kept.
torch_spec=$(sed -n 's/^ *"\(torch[<>=!~][^"]*\)",*$/\1/p' pyproject.toml | head -n 1)  # the range users get
if ! python -c "import torch" 2>/dev/null; then
    if command -v nvidia-smi >/dev/null 2>&1 || [ -e /proc/driver/nvidia/version ]; then
        echo "NVIDIA driver found: installing PyTorch's CUDA build ($torch_spec)"
        python -m pip install --quiet "$torch_spec"
    elif ! python -m pip install --quiet --timeout 20 --retries 1 \
            --index-url "${LAB_TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}" "$torch_spec"; then
        echo "PyTorch's CPU wheel index cannot be reached: installing from the default index"
        python -m pip install --quiet "$torch_spec"
    fi
fi
python -c "import torch; print('PyTorch', torch.__version__, '(CUDA build)' if torch.version.cuda else '(CPU build)')"
