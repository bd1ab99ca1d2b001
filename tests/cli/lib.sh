# Helpers for the CLI tests: run a command, check its status and output.
# Each script sources this, calls `check`/`expect_status`, then `finish`.
passed=0
failed=0

# expect_status WANT DESCRIPTION -- CMD...: runs CMD, stdout to $out, stderr to $err.
expect_status() {
    local want=$1 what=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [[ $got -eq $want ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $what: exit $got, wanted $want"
        sed 's/^/  stderr: /' "$tmp/err" | head -5
    fi
}

# check DESCRIPTION CONDITION...: evaluates a test(1)-style or shell condition.
check() {
    local what=$1
    shift
    if eval "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $what ($*)"
    fi
}

# A single line on stderr that names the file and says what is wrong.
check_one_line_error() {
    local what=$1 file=$2 needle=$3
    check "$what: one line on stderr" '[[ $(wc -l <"$tmp/err") -eq 1 ]]'
    check "$what: names the file" 'grep -qF -- "$file" "$tmp/err"'
    check "$what: says '$needle'" 'grep -qF -- "$needle" "$tmp/err"'
    check "$what: nothing on stdout" '[[ ! -s "$tmp/out" ]]'
}

finish() {
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}
