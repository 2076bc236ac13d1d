"""Make the renditions every library image's current file should have and lacks. Safe to run again.

Run it after changing IMAGE_RENDITION_WIDTHS, or after restoring images whose renditions were not copied;
uploads in the admin make their own. Existing rendition files are never rewritten or removed.
"""

from django.core.management.base import BaseCommand, CommandError

from articles import images, renditions
from articles.models import Image


class Command(BaseCommand):
    help = "Make the missing renditions of every image in the library (or of the images with the given ids)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", help="Image ids (numbers); every image if none is given.")

    def handle(self, *args, ids=(), **options):
        if any(not str(pk).isdigit() for pk in ids):
            raise CommandError(f"Image ids are whole numbers; got: {', '.join(ids)}")
        library = Image.objects.order_by("pk")
        if ids:
            library = library.filter(pk__in=[int(pk) for pk in ids])
            unknown = {int(pk) for pk in ids} - set(library.values_list("pk", flat=True))
            if unknown:
                raise CommandError(f"No image with id {', '.join(map(str, sorted(unknown)))}.")
        made = failed = 0
        for image in library.iterator():
            before = image.current_renditions().count()
            try:
                after = len(renditions.make_renditions(image))
            except (OSError, images.UnsafeImage) as error:
                failed += 1
                self.stderr.write(f"Image {image.pk} “{image.title}”: {error}")
                continue
            if after > before:
                made += after - before
                self.stdout.write(f"Image {image.pk} “{image.title}”: {after - before} rendition(s) made.")
        self.stdout.write(f"{made} rendition(s) made." if made else "Every image has its renditions.")
        if failed:
            raise CommandError(f"{failed} image(s) could not be read from storage; see above.")
