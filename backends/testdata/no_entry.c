/* A shared library that is no Stratum plugin: it exports a function, but not the entry point. */
int stratum_not_a_plugin(void) { return 0; }
