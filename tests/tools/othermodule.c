/* othermodule.c - two broken installs of hubpredict-image.so for
 * tests/e2e/test_image_module.py: built as hp_noentry.so (a shared object
 * without the entry point) and, with HP_OTHER_BUILD, hp_otherbuild.so (the
 * entry point of a module from another build: its interface number and
 * version are not the binary's). */
#include "hubpredict/module.h"

#ifdef HP_OTHER_BUILD
const struct hp_module_header *hp_image_module(void);

static const struct hp_module_header header = { 999, "0.0.0-other" };

const struct hp_module_header *hp_image_module(void)
{
	return &header;
}
#else
int hp_not_the_entry(void);

int hp_not_the_entry(void)
{
	return 0;
}
#endif
