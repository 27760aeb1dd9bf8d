# The kernel-log check of the runner and of vm-run's guest (sourced).
# klog_bad < LOG prints the lines that show a problem. Stack-frame lines
# ("  ? lockdep_hardirqs_on+0x7c/0x100") are left out first: a frame names
# a function, not a problem, and a harmless trace (an allocation failure's
# warn_alloc, which fault injection provokes on purpose) would otherwise
# match "lockdep" or "panic". Every real report has a header line that
# is not a frame ("BUG: …", "WARNING: …", "unreferenced object …").
klog_bad_re='BUG:|KASAN|WARNING:|lockdep|unreferenced object|Oops|panic|circular locking|possible recursive locking'
klog_frame_re='^(\[ *[0-9]+\.[0-9]+\])? +(\? )?[A-Za-z0-9_.]+\+0x[0-9a-f]+/0x[0-9a-f]+( \[[A-Za-z0-9_]+\])?$'
klog_bad() { grep -vE "$klog_frame_re" | grep -E "$klog_bad_re"; }
