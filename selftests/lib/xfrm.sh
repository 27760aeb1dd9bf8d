# Sourced by the shell AH/IPcomp tests: esp.sh, then the implementation
# chosen by RXFRM_IMPL (xfrm.py: rxfrm, or native — the kernel's own
# af_key + xfrm, loaded here), with esp.sh's counters read from its file.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
XFRM="python3 $ROOT/selftests/lib/xfrm.py"
impl_env=$($XFRM setup) || { echo "$impl_env"; fail "RXFRM_IMPL=${RXFRM_IMPL:-rxfrm}: setup"; }
export "${impl_env?}"
echo "implementation: ${RXFRM_IMPL:-rxfrm} ($RXFRM_STAT)"
