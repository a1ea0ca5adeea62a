"""Independent check of a Secondary Capture we write: pydicom (Debian's python3, no numpy) reads it and
reports its image attributes and how many pure-white pixels lie at or below a given row (the caption strip).

usage: inspect_sc.py FILE CAPTION_TOP_ROW
prints one JSON object; exit 0 when pydicom decoded it.
"""
import json
import sys

import pydicom


def main():
    path, caption_top = sys.argv[1], int(sys.argv[2])
    ds = pydicom.dcmread(path)
    rows, columns, samples = int(ds.Rows), int(ds.Columns), int(ds.SamplesPerPixel)
    data = ds.PixelData
    expected = rows * columns * samples
    white = 0
    # Planar Configuration 0: R, G, B of one pixel next to each other, pixels row by row.
    for row in range(caption_top, rows):
        base = row * columns * 3
        for column in range(columns):
            p = base + column * 3
            if data[p] == 255 and data[p + 1] == 255 and data[p + 2] == 255:
                white += 1
    print(json.dumps({
        "sop_class": str(ds.SOPClassUID),
        "rows": rows,
        "columns": columns,
        "samples": samples,
        "photometric": str(ds.PhotometricInterpretation),
        "planar": int(ds.PlanarConfiguration),
        "bits_allocated": int(ds.BitsAllocated),
        "burned_in": str(ds.BurnedInAnnotation),
        "conversion_type": str(ds.ConversionType),
        "series_description": str(ds.SeriesDescription),
        "pixel_bytes": len(data),
        "expected_bytes": expected,
        "caption_white_pixels": white,
    }))


if __name__ == "__main__":
    main()
