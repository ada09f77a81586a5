/*
 * tests/fuzz/rackd_conf.c — the running configuration and its lock for the
 * drivers that link rackd's library (libappliance): today they live in
 * appliance/main.c, which the library leaves out. Weak, so that a library
 * that defines them itself wins and the drivers need no change.
 */
#include "appliance/rackd.h"

__attribute__((weak)) struct config conf;

__attribute__((weak)) void
conf_rdlock(void)
{
}

__attribute__((weak)) void
conf_unlock(void)
{
}
