#!/usr/bin/env python3
"""How much the API's confidence floor (0.01) moves mAP against `yolo val`'s 0.001.

A measurement, not a test (ctest does not run it): generated detect sets (200 images, 5
classes, 85 % of the objects found with jittered boxes, 7 % of them with a wrong class, one
found object in ten with a low confidence, and up to 5, 30 or 100 low-confidence false positives
an image), each scored by the numpy reference of Ultralytics' algorithm (reference.py) twice:
with every prediction (conf >= 0.001) and with those the API sends (conf >= 0.01), the
predictions matched again after the cut as the validator would. Prints both mAPs and the
difference in points. The man page's VAL section quotes its figures.

Run: /usr/bin/python3 tests/val/cut_effect.py   (needs python3-numpy)
"""
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as R
rng = np.random.default_rng(7)
def trial(n_img=200, nc=5, fp_low=30):
    tps, confs, pcls, tcls = [[], []], [[], []], [[], []], []
    iou_th = R.iouv()
    for _ in range(n_img):
        n = rng.integers(1, 8)
        gt = rng.uniform(0, 600, (n, 2)); wh = rng.uniform(20, 200, (n, 2))
        gtb = np.hstack([gt, gt + wh]); gc = rng.integers(0, nc, n)
        preds, pc, cf = [], [], []
        for b, c in zip(gtb, gc):
            if rng.random() < 0.85:   # detected, jittered; a low-conf true positive sometimes
                j = b + rng.normal(0, 6, 4); preds.append(j); pc.append(c if rng.random() < .93 else rng.integers(0, nc))
                cf.append(rng.uniform(0.3, 1) if rng.random() < .9 else rng.uniform(0.001, 0.3))
        k = rng.integers(0, fp_low)   # low-confidence false positives, as a model gives below 0.01
        for _ in range(k):
            p = rng.uniform(0, 600, 2); preds.append(np.hstack([p, p + rng.uniform(20, 200, 2)]))
            pc.append(rng.integers(0, nc)); cf.append(rng.uniform(0.001, 0.05) if rng.random() < .8 else rng.uniform(0.05, 0.5))
        if not preds:
            tcls.append(gc); continue
        P = np.array(preds); pc = np.array(pc); cf = np.array(cf)
        for ci, cut in enumerate((0.001, 0.01)):
            k = cf >= cut
            o = np.argsort(-cf[k], kind="stable")
            iou = R.box_iou(gtb, P[k][o])
            tp = R.match_predictions(pc[k][o], gc, iou)
            tps[ci].append(tp); confs[ci].append(cf[k][o]); pcls[ci].append(pc[k][o])
        tcls.append(gc)
    tc = np.concatenate(tcls); out = []
    for ci in range(2):
        p, r, ap, *_ = R.ap_per_class(np.concatenate(tps[ci]), np.concatenate(confs[ci]), np.concatenate(pcls[ci]), tc)
        out.append((ap[:, 0].mean(), ap.mean(1).mean()))
    return out


if __name__ == "__main__":
    for f in (5, 30, 100):
        for _ in range(4):
            (a50, a5095), (b50, b5095) = trial(fp_low=f)
            print(f"low-conf FPs < {f:3d} an image   conf>=0.001: mAP50 {a50:.4f} mAP50-95 {a5095:.4f}   "
                  f"conf>=0.01: mAP50 {b50:.4f} mAP50-95 {b5095:.4f}   "
                  f"difference {100 * (b50 - a50):+.3f} / {100 * (b5095 - a5095):+.3f} points")
