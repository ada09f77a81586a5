/*
 * tests/fuzz/fuzz_images_manifest.c — the image manifest parser
 * (images/manifest.c) on hostile text: a manifest arrives from a push, a
 * job reply or a store on disk. A manifest that parses must validate,
 * write itself back deterministically, and parse again to the same text.
 */
#include <string.h>

#include "images/manifest.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL, *again = NULL;
	char err[256], *text, *text2;

	FUZZ_SELFTEST_TRAP(data, size);
	err[0] = '\0';
	if (manifest_parse((const char *)data, size, &m, err,
	    sizeof(err)) != 0) {
		FUZZ_CHECK(m == NULL && err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(m != NULL);
	FUZZ_CHECK(manifest_validate(m, err, sizeof(err)) == 0);
	FUZZ_CHECK(m->nchunks <= MANIFEST_MAX_CHUNKS);
	FUZZ_CHECK(image_name_valid(m->name) &&
	    image_version_valid(m->version));
	text = manifest_to_json(m);
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(manifest_parse(text, strlen(text), &again, err,
	    sizeof(err)) == 0);
	text2 = manifest_to_json(again);
	FUZZ_CHECK(text2 != NULL && strcmp(text, text2) == 0);
	free(text);
	free(text2);
	manifest_free(again);
	manifest_free(m);
	return 0;
}
