/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    SPLAMFLOW: extract -> split -> score (one task per chunk, GPU-capable) -> merge -> clean
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Alignments (BAMs) and an annotation (GTF/GFF3) go through the same modules under two
    names each (SPLAMFLOW_EXTRACT / SPLAMFLOW_EXTRACT_ANNOTATION, SPLAMFLOW_CLEAN /
    SPLAMFLOW_CLEAN_ANNOTATION), so that conf/modules.config gives each its options by name.

    Scatter/gather: JUNCTIONS_SPLIT writes chunk k (0-based) of a sample's junctions as
    <id>.chunk_<k as 6 digits>.bed. Each chunk becomes one SPLAMFLOW_SCORE task whose meta is
    `[id: '<id>.chunk_<k>', sample: <the sample's meta>, chunk: k, chunks: n]`. The gather
    groups a sample's n scored chunks (groupKey with the size known up front, so no waiting
    for the end of the channel), checks that the indices are exactly 0..n-1, sorts by index,
    and JUNCTIONS_MERGE concatenates them in that order: the merged scores have the bytes the
    unsplit file would have given, because scoring is row-by-row in input order.
----------------------------------------------------------------------------------------
*/

include { SPLAMFLOW_EXTRACT                            } from '../modules/splamflow/splamflow/extract/main'
include { SPLAMFLOW_EXTRACT as SPLAMFLOW_EXTRACT_ANNOTATION } from '../modules/splamflow/splamflow/extract/main'
include { JUNCTIONS_SPLIT                          } from '../modules/splamflow/junctions/split/main'
include { SPLAMFLOW_SCORE                              } from '../modules/splamflow/splamflow/score/main'
include { JUNCTIONS_MERGE                          } from '../modules/splamflow/junctions/merge/main'
include { SPLAMFLOW_CLEAN                              } from '../modules/splamflow/splamflow/clean/main'
include { SPLAMFLOW_CLEAN as SPLAMFLOW_CLEAN_ANNOTATION     } from '../modules/splamflow/splamflow/clean/main'
include { MULTIQC                                      } from '../modules/local/multiqc/main'

workflow SPLAMFLOW {

    take:
    ch_alignments  // channel: [ val(meta), path(bam), path(index) or [] ]
    ch_annotation  // channel: [ val(meta), path(gtf), [] ] (empty without --gtf)
    ch_fasta       // channel: [ val(meta2), path(fasta), [ path(fai), path(gzi) ] ]
    ch_model       // channel: [] or [ path(weights), path(json metadata) ]
    chunk_size     // value channel: junctions per scoring task

    main:
    SPLAMFLOW_EXTRACT(ch_alignments, ch_fasta)
    SPLAMFLOW_EXTRACT_ANNOTATION(ch_annotation, ch_fasta)
    ch_junctions = SPLAMFLOW_EXTRACT.out.bed.mix(SPLAMFLOW_EXTRACT_ANNOTATION.out.bed)

    JUNCTIONS_SPLIT(ch_junctions, chunk_size)

    ch_chunks = JUNCTIONS_SPLIT.out.chunks
        .flatMap { meta, chunks -> chunkTasks(meta, chunks instanceof List ? chunks : [chunks]) }

    SPLAMFLOW_SCORE(ch_chunks, ch_fasta, ch_model)

    ch_scored = SPLAMFLOW_SCORE.out.bed
        .map { meta, scores -> [groupKey(meta.sample, meta.chunks), [meta.chunk, scores]] }
        .groupTuple()
        .map { key, indexed -> [key.getGroupTarget(), chunksInOrder(key.getGroupTarget(), indexed)] }

    JUNCTIONS_MERGE(ch_scored)

    ch_merged = JUNCTIONS_MERGE.out.bed
        .branch { meta, _scores ->
            annotation: meta.type == 'annotation'
            alignments: true
        }

    SPLAMFLOW_CLEAN(ch_alignments.join(ch_merged.alignments, failOnDuplicate: true, failOnMismatch: true), ch_fasta)
    SPLAMFLOW_CLEAN_ANNOTATION(ch_annotation.join(ch_merged.annotation, failOnDuplicate: true, failOnMismatch: true), ch_fasta)

    // one MultiQC report: every sample's clean counts and score histogram
    def multiqc_missing = multiqcMissing()
    if (multiqc_missing) {
        log.warn(multiqc_missing)
    }
    if (!params.skip_multiqc.toString().toBoolean() && !multiqc_missing) {
        def ch_multiqc_files = SPLAMFLOW_CLEAN.out.mqc.mix(SPLAMFLOW_CLEAN.out.score_histogram)
            .map { _meta, table -> table }
            .collect()
        def ch_multiqc_config = channel.value(file(params.multiqc_config ?: "${projectDir}/assets/multiqc_config.yml", checkIfExists: true))
        MULTIQC(ch_multiqc_files, ch_multiqc_config)
    }

    junctions   = ch_junctions
    scores      = JUNCTIONS_MERGE.out.bed
    cleaned_bam = SPLAMFLOW_CLEAN.out.bam
    discarded   = SPLAMFLOW_CLEAN.out.discarded
    annotation  = SPLAMFLOW_CLEAN_ANNOTATION.out.annotation
    stats       = SPLAMFLOW_CLEAN.out.stats.mix(SPLAMFLOW_CLEAN_ANNOTATION.out.stats)
    mqc         = SPLAMFLOW_CLEAN.out.mqc

    // emits are bare names assigned above: Nextflow 25.04.0's strict parser drops `name = value` emits
    emit:
    junctions    // channel: [ val(meta), path(junctions.bed) ]
    scores       // channel: [ val(meta), path(scores.bed) ]
    cleaned_bam  // channel: [ val(meta), path(cleaned.bam) ]
    discarded    // channel: [ val(meta), path(discarded.bam) ]
    annotation   // channel: [ val(meta), path(cleaned.gtf) ]
    stats        // channel: [ val(meta), path(clean_stats.json) ]
    mqc          // channel: [ val(meta), path(clean_stats_mqc.tsv) ]
}

/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Functions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
*/

// One [meta, chunk] per chunk file of a sample; the chunk's id names its SPLAMFLOW_SCORE outputs
def chunkTasks(Map meta, List chunks) {
    return chunks.collect { chunk ->
        def index = chunkIndex(chunk)
        def id = "${meta.id}.chunk_${String.format('%06d', index)}".toString()
        [[id: id, sample: meta, chunk: index, chunks: chunks.size()], chunk]
    }
}

// 0-based chunk index from a JUNCTIONS_SPLIT file name: <id>.chunk_000042.bed -> 42
def chunkIndex(Object chunk) {
    def match = chunk.name =~ /\.chunk_(\d{6})\.bed$/
    if (!match.find()) {
        error("splamflow: unexpected chunk file name ${chunk.name} (expected <id>.chunk_NNNNNN.bed)")
    }
    return match.group(1) as Integer
}

// Scored chunks sorted by chunk index, after checking that the indices are exactly 0..n-1
def chunksInOrder(Map meta, List indexed) {
    def sorted = indexed.sort(false) { pair -> pair[0] }
    def indices = sorted.collect { pair -> pair[0] }
    if (indices != (0..<indices.size()).toList()) {
        error("splamflow: sample ${meta.id}: scored chunks ${indices} are not exactly 0..${indices.size() - 1}")
    }
    return sorted.collect { pair -> pair[1] }
}

// Why MultiQC cannot run, or null: where tasks run the software on PATH (no container engine, no
// conda), `pip install splamflow` does not bring MultiQC. PATH is this machine's: on a grid
// executor the nodes are taken to share it. Nothing to say with --skip_multiqc.
def multiqcMissing() {
    if (params.skip_multiqc.toString().toBoolean()) {
        return null
    }
    def conda = workflow.session.config.navigate('conda.enabled')
    if (workflow.containerEngine || conda.toString().toBoolean()) {
        return null
    }
    def on_path = (System.getenv('PATH') ?: '').tokenize(File.pathSeparator).any { dir -> new File(dir, 'multiqc').canExecute() }
    return on_path ? null : 'splamflow: no multiqc on PATH (install it: pip install multiqc==1.35, or use a container profile): the MultiQC report is skipped'
}
