# Sourced by the bench scripts that time whole processes.
# Median of the whole-process wall times (ms, to 0.1) of a command run n
# times, read from bash's own clock ($EPOCHREALTIME, bash 5): a `date`
# process before and after each run added its own start (1-2 ms) to every
# figure. FRESH=FILE: FILE is removed before each run, untimed: replacing a
# file frees its page cache in the rename (decode -T 2 of 128 Mi symbols to
# a file on the VM: 51-65 ms new, 83-290 ms over the last run's output).
median_ms() {
    local n=$1
    shift
    for ((i = 0; i < n; i++)); do
        [[ -z ${FRESH:-} || $FRESH == /dev/null ]] || rm -f "$FRESH"
        local s=$EPOCHREALTIME
        "$@" >/dev/null
        local e=$EPOCHREALTIME
        echo $((${e/[.,]/} - ${s/[.,]/}))
    done | sort -n | sed -n "$(((n + 1) / 2))p" | awk '{printf "%.1f", $1 / 1000}'
}
