# Sourced by bench/quality.sh and bench/speed.sh: makes sure target/bench-venv holds the two
# Python peers, better-profanity and alt-profanity-check, and sets $venv to it.
#
# Pinned so that runs stay comparable over time. alt-profanity-check ships a pickled
# scikit-learn model, so each release pins the scikit-learn and joblib it was saved with:
# 1.9.1 requires Python >= 3.11 (this machine's python3.11) and pins scikit-learn==1.9.1 and
# joblib==1.6.0, which have Python 3.11 wheels. A newer alt-profanity-check may need a newer
# Python; bump both together. $PEER_PYTHON names the interpreter (default python3.11).

venv="target/bench-venv"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "venv.sh: creating $venv" >&2
    "${PEER_PYTHON:-python3.11}" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import better_profanity, profanity_check' 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        'better-profanity==0.7.0' 'alt-profanity-check==1.9.1'
fi
# Fail here, not halfway through a run, if the model does not load.
"$venv/bin/python" -c 'from profanity_check import predict; assert list(predict(["hello"])) == [0]'
