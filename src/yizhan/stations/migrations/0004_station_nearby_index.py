"""The nearby search's covering index (cell, status, lat, lng, services_mask, kind, id) in
place of the plain index on ``cell``: the search sorts ids and distances from the index alone
and reads the rows of one page only (``stations.selectors``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("stations", "0003_cells_and_catalogue")]

    operations = [
        migrations.AddIndex(
            model_name="station",
            index=models.Index(
                fields=["cell", "status", "lat", "lng", "services_mask", "kind", "id"],
                name="station_nearby_idx",
            ),
        ),
        migrations.AlterField(
            model_name="station",
            name="cell",
            field=models.BigIntegerField(default=0, editable=False, verbose_name="map cell"),
        ),
    ]
