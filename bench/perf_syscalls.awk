# Counts `perf script -F comm,ip,sym` samples by thread name and by the system call they are
# in ("user space" when none): where the kernel time of a profile goes. Used by bench/run.sh.
function flush() { if (insample) { n++; c[comm " " sys]++ } insample = 0 }
/^[^\t]/ && NF > 0 { flush(); insample = 1; comm = $1; sys = "(user space)"; found = 0; next }
/\t/ && !found && ($2 ~ /^__x64_sys_/ || $2 ~ /^__do_sys_/) { s = $2; sub(/^__x64_sys_|^__do_sys_/, "", s); sys = "syscall " s; found = 1 }
END { flush(); for (k in c) printf "%6.2f%%  %s\n", 100 * c[k] / n, k }
