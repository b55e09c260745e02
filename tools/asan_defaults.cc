// LeakSanitizer's defaults, linked into every binary built with --config=asan (.bazelrc: custom_malloc, and
// exported, so that the shared ASan runtime finds them).
// use_tls=0: LSan's scan of thread-local storage crashes its tracer ("Tracer caught signal 11") in processes
// running oneDNN's OpenMP threads. Unscanned TLS then hides pointers only held there: glibc's last dlerror()
// message, and libgomp's thread pool (made by the first parallel region, as all_finite's).
extern "C" const char* __lsan_default_options() { return "use_tls=0"; }
extern "C" const char* __lsan_default_suppressions() {
  return "leak:_dlerror_run\nleak:_dl_exception_create\nleak:libgomp.so\n";
}
